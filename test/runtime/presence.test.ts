/**
 * Presence (src/runtime/presence.ts): signed heartbeats build the live set; silence makes a peer
 * stale; forged, malformed and replayed heartbeats change nothing.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encodeCanonical, decodeCanonical } from '../../src/core/codec/index.ts'
import type { CborValue } from '../../src/core/codec/index.ts'
import { toKey } from '../../src/core/bytes.ts'
import type { Identity } from '../../src/core/identity/index.ts'
import { MemoryNetwork } from '../../src/runtime/memory-network.ts'
import { HEARTBEAT_TOPIC, Presence } from '../../src/runtime/presence.ts'
import { NET, identities, seedFromEnv } from '../helpers/fixtures.ts'

const settle = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 30)) }

async function cluster (n: number, seed: number): Promise<{ ids: Identity[], presences: Presence[], clock: { t: number, now: () => number }, events: string[], network: MemoryNetwork }> {
  const ids = await identities(n)
  const network = new MemoryNetwork({ seed })
  const clock = { t: 1_000_000, now () { return this.t } }
  const events: string[] = []
  const presences = ids.map((id, i) => {
    const transport = network.join(id.publicKey)
    const p: Presence = new Presence({
      identity: id,
      networkId: NET,
      transport,
      clock,
      intervalMs: 1000,
      status: () => ({ tasks: i, paused: false, events: 0, root: new Uint8Array(32) }),
      onLive: peer => events.push(`${i} live ${ids.findIndex(x => toKey(x.publicKey) === toKey(peer))}`),
      onStale: peer => events.push(`${i} stale ${ids.findIndex(x => toKey(x.publicKey) === toKey(peer))}`)
    })
    transport.onMessage((from, topic, data) => { p.handle(from, topic, data) })
    return p
  })
  return { ids, presences, clock, events, network }
}

describe('Presence', () => {
  it('builds the live set from heartbeats and drops a silent peer after staleMs, until it beats again', async () => {
    const seed = seedFromEnv()
    const { presences, clock, events } = await cluster(3, seed)
    for (const p of presences) await p.beat()
    await settle()
    for (const p of presences) assert.equal(p.live().length, 2, `seed ${seed}`)
    assert.equal(presences[0]!.live().find(x => x.status.tasks === 1)?.status.paused, false)
    // Node 2 goes silent; the others keep beating.
    clock.t += 2500
    await presences[0]!.beat(); await presences[1]!.beat()
    await settle()
    clock.t += 1000
    for (const p of presences) p.check()
    assert.deepEqual(presences[0]!.live().map(x => x.status.tasks), [1], 'node 2 is stale for node 0')
    assert.ok(events.includes('0 stale 2') && events.includes('1 stale 2'))
    assert.equal(presences[0]!.peers().length, 2, 'a stale peer is remembered')
    await presences[2]!.beat()
    await settle()
    assert.equal(presences[0]!.live().length, 2, 'it comes back with its next heartbeat')
    assert.equal(events.filter(e => e === '0 live 2').length, 2)
  })

  it('ignores forged, malformed, oversized and replayed heartbeats', async () => {
    const seed = seedFromEnv()
    const { ids, presences, network } = await cluster(2, seed)
    const [a, b] = presences as [Presence, Presence]
    const outsider = network.join(new Uint8Array(32).fill(9))
    const captured: Uint8Array[] = []
    const spy = network.join(new Uint8Array(32).fill(8))
    spy.onMessage((_f, topic, data) => { if (topic === HEARTBEAT_TOPIC) captured.push(data) })
    await a.beat()
    await settle()
    assert.equal(b.live().length, 1)
    const genuine = captured[0]!
    const fields = decodeCanonical(genuine, 512) as CborValue[]
    // Forged: node 0's heartbeat with another status (the signature no longer covers it).
    const forged = encodeCanonical([fields[0]!, fields[1]!, (fields[2] as number) + 1, { tasks: 99, paused: true, events: 0, root: new Uint8Array(32), every: 1000 }, fields[4]!])
    outsider.publish(HEARTBEAT_TOPIC, forged)
    outsider.publish(HEARTBEAT_TOPIC, new Uint8Array([1, 2, 3]))
    outsider.publish(HEARTBEAT_TOPIC, new Uint8Array(600))
    outsider.publish(HEARTBEAT_TOPIC, genuine) // a replay: same sequence
    await settle()
    const seen = b.live()[0]!
    assert.equal(seen.status.tasks, 0, `seed ${seed}: the forged status was not taken`)
    assert.equal(b.refused.get(toKey(ids[0]!.publicKey)), 1, 'the forgery counts against the key it names')
    assert.equal(b.refused.get(toKey(outsider.self)), 2, 'garbage counts against its sender')
    assert.equal(b.peers().length, 1, 'nobody new appeared')
  })
})
