/**
 * The replication laws, by seeded simulation (Yjs-style): many replicas, random delivery order,
 * drops, duplicates and re-sends; at the end every replica holds the same set (equal roots), the
 * same views, detects every equivocation, and conservation held after every single step.
 * SEED=n reproduces one run; SEEDS=k sets how many seeds (default 1000).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Ledger } from '../../../src/core/ledger/ledger.ts'
import { identities, prng } from '../../helpers/fixtures.ts'
import { randomHistory } from '../../helpers/history.ts'
import type { History } from '../../helpers/history.ts'

const SEEDS = Number(process.env.SEEDS ?? 1000)
const FIRST = Number(process.env.SEED ?? 1)
const SEEDS_PER_HISTORY = 10

function shuffle<T> (rand: () => number, list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[list[i], list[j]] = [list[j] as T, list[i] as T]
  }
  return list
}

async function deliver (to: Ledger, events: Uint8Array[], seed: number): Promise<void> {
  const r = await to.ingest(events)
  assert.equal(r.rejected.length, 0, `seed ${seed}: a valid event was refused: ${r.rejected[0]?.error.message}`)
  assert.equal(to.totals().conservationGap, 0n, `seed ${seed}: conservation broke`)
}

async function runSeed (seed: number, history: History): Promise<void> {
  const rand = prng(seed)
  const replicas = Array.from({ length: 5 + Math.floor(rand() * 46) }, () => Ledger.create({ config: history.generator.config }))
  const drop = rand() * 0.3
  const dup = rand() * 0.2
  // Each event starts at one replica (its author's node).
  for (const e of shuffle(rand, [...history.events])) await deliver(replicas[Math.floor(rand() * replicas.length)] as Ledger, [e], seed)
  // Gossip with drops and duplicates, in random order.
  for (let step = 0; step < replicas.length * 2; step++) {
    const from = replicas[Math.floor(rand() * replicas.length)] as Ledger
    const to = replicas[Math.floor(rand() * replicas.length)] as Ledger
    const batch: Uint8Array[] = []
    for (const e of from.exportEvents()) {
      if (rand() < drop) continue
      batch.push(e)
      if (rand() < dup) batch.push(e)
    }
    await deliver(to, shuffle(rand, batch), seed)
  }
  // Re-sends (anti-entropy): around a ring, each sending what the next one lacks, until a whole
  // round moves nothing (an event parked for a missing dependency moves on once it applies).
  for (let round = 0, moved = 1; moved > 0; round++) {
    assert.ok(round < 20, `seed ${seed}: anti-entropy did not settle`)
    moved = 0
    for (let i = 0; i < replicas.length; i++) {
      const from = replicas[i] as Ledger
      const to = replicas[(i + 1) % replicas.length] as Ledger
      const missing = from.exportEvents(from.ids().filter(id => !to.has(id)))
      moved += missing.length
      await deliver(to, shuffle(rand, missing), seed)
    }
  }
  const root = history.generator.stateRootHex()
  const ids = await identities(8)
  for (const [n, r] of replicas.entries()) {
    assert.equal(r.pendingCount, 0, `seed ${seed}: replica ${n} still waits for events`)
    assert.equal(r.stateRootHex(), root, `seed ${seed}: replica ${n} diverged`)
    assert.deepEqual(r.totals(), history.generator.totals(), `seed ${seed}: replica ${n} totals differ`)
    for (const id of ids) {
      assert.deepEqual(r.account(id.publicKey), history.generator.account(id.publicKey), `seed ${seed}: replica ${n} account view differs`)
      const hex = Buffer.from(id.publicKey).toString('hex')
      assert.equal(r.account(id.publicKey).equivocated, history.equivocators.has(hex), `seed ${seed}: equivocation not detected`)
    }
  }
}

describe('ledger replication', () => {
  it(`converges over ${SEEDS} seeds of 5 to 50 replicas with drops, duplicates and re-sends`, async () => {
    const pool = await identities(8)
    let history: History | null = null
    const seen = new Map<string, number>()
    let equivocations = 0
    for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
      if (history === null || (seed - FIRST) % SEEDS_PER_HISTORY === 0) {
        const rand = prng(seed * 7919)
        history = await randomHistory({ rand, ids: pool.slice(0, 3 + Math.floor(rand() * 6)), events: 10 + Math.floor(rand() * 30), forks: 0.05 })
        equivocations += history.equivocators.size
        for (const e of history.generator.range(0, Infinity)) seen.set(e.type, (seen.get(e.type) ?? 0) + 1)
      }
      try {
        await runSeed(seed, history)
      } catch (err) {
        console.error(`convergence failed; reproduce with SEED=${seed - ((seed - FIRST) % SEEDS_PER_HISTORY)} SEEDS=${SEEDS_PER_HISTORY}`)
        throw err
      }
    }
    // The histories must exercise every money-moving rule, or the laws above prove little.
    if (SEEDS >= 500) {
      for (const type of ['trial', 'transfer', 'escrow', 'reward', 'stake', 'unstake', 'delegate', 'slash', 'reputation']) {
        assert.ok((seen.get(type) ?? 0) > 0, `no ${type} event was generated`)
      }
      assert.ok(equivocations > 0, 'no equivocation was generated')
    }
  })
})
