/**
 * The local demo network (src/host/demo.ts) with real processes: 5 `edge-net node` processes on
 * loopback plus an in-process submitter, one node lying. Every task is verified, no wrong result
 * is accepted, the liar is slashed and nobody honest is, and every replica ends on one state root.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { runDemo } from '../../src/host/demo.ts'
import { seedFromEnv } from '../helpers/fixtures.ts'

describe('edge-net demo (5 node processes)', () => {
  it('verifies every task, slashes only the liar, and converges on one state root', async () => {
    const seed = seedFromEnv() % 1000
    const report = await runDemo({ nodes: 5, tasks: 24, malicious: 1, seed })
    const why = `seed ${seed}: ${JSON.stringify(report.tasks)}`
    assert.equal(report.converged, true, why)
    assert.equal(report.tasks.submitted, 24, why)
    assert.equal(report.tasks.verified, 24, why)
    assert.equal(report.tasks.wrongAccepted, 0, why)
    assert.equal(report.nodes.length, 5)
    assert.equal(new Set(report.nodes.map(n => n.stateRoot)).size, 1, why)
    for (const n of report.nodes) {
      if (n.malicious) assert.ok(BigInt(n.slashed) > 0n || n.tasksCompleted === 0, `${why}: the liar ran tasks but was never slashed`)
      else assert.equal(n.slashed, '0', `${why}: an honest node was slashed`)
      assert.ok(BigInt(n.staked) >= 0n, `${why}: negative stake`)
    }
  })
})
