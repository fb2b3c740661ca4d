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
import { ANSWER_GAP_MS, HEARTBEAT_TOPIC, Presence } from '../../src/runtime/presence.ts'
import { NET, identities, seedFromEnv } from '../helpers/fixtures.ts'

const settle = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 30)) }
async function until (ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!ok() && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 10))
  assert.ok(ok(), 'the condition held in time')
}

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

  it('answers a newcomer with a heartbeat at once, so a long period does not delay it; joins within the answer gap share one answer', async () => {
    const seed = seedFromEnv()
    const ids = await identities(4)
    const network = new MemoryNetwork({ seed })
    const beatsBy0: number[] = []
    const spy = network.join(new Uint8Array(32).fill(8))
    spy.onMessage((_f, topic, data) => {
      if (topic === HEARTBEAT_TOPIC && toKey((decodeCanonical(data, 512) as CborValue[])[1] as Uint8Array) === toKey(ids[0]!.publicKey)) beatsBy0.push(Date.now())
    })
    // A one-minute period and no fast start: any heartbeat of node 0 after its first is an answer.
    const presences: Presence[] = []
    const make = (id: Identity): Presence => {
      const transport = network.join(id.publicKey)
      const p = new Presence({ identity: id, networkId: NET, transport, intervalMs: 60_000, fastStart: false, status: () => ({ tasks: 0, paused: false, events: 0, root: new Uint8Array(32) }) })
      transport.onMessage((from, topic, data) => { p.handle(from, topic, data) })
      presences.push(p)
      return p
    }
    const a = make(ids[0]!)
    try {
      a.start()
      await until(() => beatsBy0.length === 1)
      // The others join after node 0's first heartbeat, and beat only when told (not started).
      const b = make(ids[1]!)
      await b.beat()
      await until(() => b.live().length === 1)
      assert.equal(beatsBy0.length, 2, `seed ${seed}: node 0 answered node 1 with one heartbeat`)
      // Two newcomers right after that answer: one more heartbeat, once the gap has passed.
      const [c, d] = [make(ids[2]!), make(ids[3]!)]
      await c.beat(); await d.beat()
      const sees0 = (p: Presence): boolean => p.live().some(x => toKey(x.id) === toKey(ids[0]!.publicKey))
      await until(() => sees0(c) && sees0(d))
      await settle()
      assert.equal(beatsBy0.length, 3, `seed ${seed}: one answer for both`)
      assert.ok((beatsBy0[2] as number) - (beatsBy0[1] as number) >= ANSWER_GAP_MS - 50, 'no sooner than the gap after the previous answer')
      a.stop()
      await b.beat() // a replay-free later beat: not a newcomer (already live), and a is stopped
      await settle()
      assert.equal(beatsBy0.length, 3, 'a stopped node does not answer')
    } finally { for (const p of presences) p.stop() }
  })

  it('starts fast: beats 1, 2, 4 s apart after start() before settling to its period', async () => {
    const [id] = await identities(1)
    const network = new MemoryNetwork({ seed: seedFromEnv() })
    const beats: number[] = []
    const spy = network.join(new Uint8Array(32).fill(8))
    spy.onMessage((_f, topic) => { if (topic === HEARTBEAT_TOPIC) beats.push(Date.now()) })
    const p = new Presence({ identity: id!, networkId: NET, transport: network.join(id!.publicKey), intervalMs: 600_000, status: () => ({ tasks: 0, paused: false, events: 0, root: new Uint8Array(32) }) })
    try {
      p.start()
      await until(() => beats.length >= 3, 20_000)
      assert.ok((beats[2] as number) - (beats[1] as number) >= (beats[1] as number) - (beats[0] as number), 'the gaps grow')
    } finally { p.stop() }
  })
})

