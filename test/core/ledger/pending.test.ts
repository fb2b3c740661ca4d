import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Ledger } from '../../../src/core/ledger/ledger.ts'
import { identities, prng, testConfig } from '../../helpers/fixtures.ts'
import { randomHistory } from '../../helpers/history.ts'
import { signEvent } from '../../../src/core/ledger/event.ts'
import type { Identity } from '../../../src/core/identity/index.ts'

const SIM = { minStake: 0n, stakeLockMs: 5, rewardLockMs: 5 }

describe('pending pool', () => {
  it('parks events until their gap closes, within its bound, and evicts the longest-waiting first', async () => {
    const pool = await identities(4)
    const history = await randomHistory({ rand: prng(21), ids: pool, events: 40 })
    const ledger = Ledger.create({ config: { ...history.generator.config, maxPending: 5 } })
    // Deliver newest first: nearly everything waits; the pool never holds more than 5.
    const reversed = [...history.events].reverse()
    for (const e of reversed) {
      await ledger.ingest(e)
      assert.ok(ledger.pendingCount <= 5)
    }
    // Evicted events are not lost for good: offering everything again converges.
    for (let size = -1; ledger.size !== size;) { size = ledger.size; await ledger.ingest(reversed) }
    assert.equal(ledger.pendingCount, 0)
    assert.equal(ledger.stateRootHex(), history.generator.stateRootHex())
  })

  it('lists the ids it waits for, and refuses events dated too far ahead of the local clock', async () => {
    const [a] = await identities(1) as [Identity]
    const ledger = Ledger.create({ config: testConfig(SIM) })
    const first = await signEvent(ledger.config.networkId, a, { type: 'heartbeat', author: a.publicKey, seq: 1, prev: null, deps: [], time: 10, body: {} })
    const second = await signEvent(ledger.config.networkId, a, { type: 'heartbeat', author: a.publicKey, seq: 2, prev: first.id, deps: [], time: 20, body: {} })
    const r = await ledger.ingest(second.bytes)
    assert.equal(r.pending, 1)
    assert.deepEqual(ledger.missingIds(), [first.id])
    const late = await ledger.ingest(first.bytes)
    assert.equal(late.applied.length, 2, 'the waiting event applies when its gap closes')
    const future = await signEvent(ledger.config.networkId, a, { type: 'heartbeat', author: a.publicKey, seq: 3, prev: second.id, deps: [], time: 10_000_000, body: {} })
    const refused = await ledger.ingest(future.bytes, { now: 1000 })
    assert.equal(refused.rejected[0]?.error.code, 'ERR_FUTURE_EVENT')
    assert.equal(ledger.size, 2)
    const later = await ledger.ingest(future.bytes, { now: 10_000_000 })
    assert.equal(later.applied.length, 1, 'the same event is accepted once the clock has caught up')
  })
})
