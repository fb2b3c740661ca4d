/**
 * Anti-entropy aimed by heartbeats (src/host/aimed-sync.ts): a session only with peers whose last
 * heartbeat root differs from ours, or that we have no heartbeat from.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { toKey } from '../../src/core/bytes.ts'
import { startAimedSync, syncTargets } from '../../src/host/aimed-sync.ts'
import type { PeerPresence } from '../../src/runtime/presence.ts'
import { seed } from '../helpers/property.ts'

const key = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const live = (id: number, root: number): PeerPresence => ({ id: key(id), lastSeen: 0, live: true, status: { tasks: 0, paused: false, events: 0, root: key(root) } })

describe('aimed anti-entropy', () => {
  it('syncTargets(): exactly the peers whose heartbeat root differs from ours or is unknown (seeded)', () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 12 }),
      fc.array(fc.record({ id: fc.integer({ min: 1, max: 40 }), root: fc.integer({ min: 0, max: 2 }) }), { maxLength: 12 }),
      fc.integer({ min: 0, max: 2 }),
      (peers, beats, ours) => {
        const byId = new Map(beats.map(b => [b.id, b.root])) // the last heartbeat per peer wins, as in Presence
        const got = syncTargets(peers.map(key), [...byId].map(([id, root]) => live(id, root)), key(ours)).map(k => k[0])
        assert.deepEqual(got, peers.filter(p => byId.get(p) !== ours))
      }
    ), { seed, numRuns: 200 })
  })

  it('opens sessions with a differing peer and none with one that agrees', async () => {
    const calls: string[] = []
    const roots = new Map([[toKey(key(1)), 7], [toKey(key(2)), 9]])
    let done: () => void = () => {}
    const enough = new Promise<void>(resolve => { done = resolve })
    const stop = startAimedSync({
      peers: () => [key(1), key(2)],
      live: () => [1, 2].map(id => live(id, roots.get(toKey(key(id))) as number)),
      root: () => key(7),
      syncWith: async peer => { calls.push(toKey(peer)); if (calls.length === 5) done() },
      intervalMs: 5
    })
    try {
      await enough
      assert.deepEqual(new Set(calls), new Set([toKey(key(2))]), 'only peer 2, whose root (9) is not ours (7)')
    } finally { stop() }
    assert.throws(() => startAimedSync({ peers: () => [], live: () => [], root: () => key(0), syncWith: async () => {}, intervalMs: 0 }), RangeError)
  })
})
