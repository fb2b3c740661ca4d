/**
 * Small versions of `npm run sim` (issue 3 §6): the verification system against liars (independent
 * and colluding), copiers and crashing workers, on the seeded in-process network. Each run prints
 * its seed on failure; rerun one with SEED=n.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { simulate } from '../../src/runtime/simulation.ts'
import type { SimulationOptions, SimulationReport } from '../../src/runtime/simulation.ts'

const baseSeed = Number(process.env.SEED ?? Date.now() % 2 ** 31)

async function run (options: SimulationOptions, offset: number): Promise<SimulationReport> {
  const seed = baseSeed + offset
  const report = await simulate({ workers: 20, tasks: 150, timeoutMs: 10_000, ...options, seed })
  return Object.assign(report, { toString: () => `SEED=${seed} ${JSON.stringify(report)}` })
}

function healthy (r: SimulationReport): void {
  assert.equal(r.escrowLost, '0', `escrow lost: ${String(r)}`)
  assert.equal(r.conservationGap, '0', `credits not conserved: ${String(r)}`)
  assert.equal(r.honestSlashed, 0, `an honest worker was slashed: ${String(r)}`)
  assert.equal(r.copiersPaid, 0, `a copier was paid: ${String(r)}`)
  assert.equal(r.errors, 0, `nodes reported errors: ${String(r)}`)
}

describe('simulation (issue 3 §6)', () => {
  it('honest network: every task verified, credits conserved', async () => {
    const r = await run({}, 0)
    healthy(r)
    assert.equal(r.tasks.verified, r.tasks.submitted, String(r))
    assert.equal(r.wrongAcceptRate, 0, String(r))
  })

  for (const collude of [false, true]) {
    for (const [i, f] of [0.05, 0.1, 0.2, 0.33].entries()) {
      it(`${collude ? 'colluding' : 'independent'} liars at f = ${f}: wrong accepts <= 3f²−2f³, liars slashed within 100 tasks, no honest worker slashed`, async () => {
        const r = await run({ liars: f, collude }, 10 + i + (collude ? 10 : 0))
        healthy(r)
        const bound = 3 * f ** 2 - 2 * f ** 3
        assert.ok(r.wrongAcceptRate <= bound, `wrongAcceptRate ${r.wrongAcceptRate} > ${bound}: ${String(r)}`)
        assert.ok(r.liarsSlashedWithin100 >= 0.99, `liars slashed within 100: ${r.liarsSlashedWithin100}: ${String(r)}`)
        assert.ok(r.tasks.verified >= r.tasks.submitted * 0.97, `too many tasks failed: ${String(r)}`)
      })
    }
  }

  it('copiers are never paid; crashed workers\' tasks are reassigned and no escrow is lost', async () => {
    const r = await run({ copiers: 0.1, crash: 0.1 }, 30)
    healthy(r)
    assert.ok(r.copiers > 0 && r.crashed > 0)
    assert.ok(r.tasks.verified + r.tasks.failed === r.tasks.submitted, String(r))
    assert.ok(r.tasks.verified >= r.tasks.submitted * 0.9, `too many tasks failed: ${String(r)}`)
  })
})
