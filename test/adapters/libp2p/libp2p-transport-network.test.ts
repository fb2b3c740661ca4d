/**
 * Libp2pTransport's network features on real libp2p nodes over loopback (mDNS off everywhere, so
 * no test meets another test's nodes): the compliance suite over WebSockets only, Kademlia
 * discovery of a peer nobody introduced, circuit relay v2 (a node reachable only through a
 * relay), and penalties that graylist then ban a peer while an honest one is unaffected.
 * Waits are event- or poll-driven with bounded timeouts; nothing asserts on wall-clock time.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { equalBytes, toHex } from '../../../src/core/bytes.ts'
import { Identity } from '../../../src/core/identity/index.ts'
import { Libp2pTransport, RELAY_HOP_PROTOCOL, TransportError } from '../../../src/adapters/libp2p/index.ts'
import type { Libp2pTransportInit } from '../../../src/adapters/libp2p/index.ts'
import { COMPLIANCE_TOPICS, transportCompliance } from '../../compliance/transport.ts'
import type { TransportFixture } from '../../compliance/transport.ts'

const CAP = 64 * 1024
const READY_MS = 10_000
/** A regression must fail, not hang the run (node:test has no default timeout). */
const T = { timeout: 30_000 }

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Poll `predicate` every 50 ms, at most `polls` times; fail with `what` otherwise. */
async function eventually (predicate: () => boolean, polls: number, what: string): Promise<void> {
  for (let i = 0; i < polls; i++) {
    if (predicate()) return
    await sleep(50)
  }
  assert.fail(`never happened: ${what}`)
}

const hasPeer = (t: Libp2pTransport, key: Uint8Array): boolean => t.peers().some(p => equalBytes(p, key))

async function node (init: Omit<Libp2pTransportInit, 'identity'> = {}): Promise<Libp2pTransport> {
  return await Libp2pTransport.create({ identity: await Identity.generate(), mdns: false, ...init })
}

async function closeAll (ts: readonly Libp2pTransport[]): Promise<void> {
  await Promise.all(ts.map(async t => { await t.close() }))
}

transportCompliance('Libp2pTransport (3 nodes, WebSockets only)', async (count): Promise<TransportFixture> => {
  const transports = await Promise.all(Array.from({ length: count }, async () =>
    await node({ listen: ['/ip4/127.0.0.1/tcp/0/ws'], topics: [...COMPLIANCE_TOPICS], maxMessageBytes: CAP })))
  for (let i = 0; i < transports.length; i++) {
    for (let j = i + 1; j < transports.length; j++) {
      const ws = (transports[j] as Libp2pTransport).addresses().find(a => a.includes('/ws/'))
      assert.ok(ws !== undefined, 'a WebSockets listen address')
      await (transports[i] as Libp2pTransport).dial(ws)
    }
  }
  await Promise.all(transports.map(async (t) => {
    await t.ready(transports.filter(u => u !== t).map(u => u.self), { signal: AbortSignal.timeout(READY_MS) })
  }))
  return { transports, cleanup: async () => {} }
}, {
  maxMessageBytes: CAP,
  oversize: 'throws',
  isOversizeError: err => err instanceof TransportError && err.code === 'ERR_MESSAGE_TOO_LARGE',
  authenticated: true,
  quietMs: 150
})

describe('Libp2pTransport listeners', T, () => {
  it('listens on TCP and WebSockets by default, and a peer dials either', async () => {
    const [a, b] = await Promise.all([node(), node()])
    try {
      const tcpAddr = a.addresses().find(x => !x.includes('/ws/'))
      const wsAddr = a.addresses().find(x => x.includes('/ws/'))
      assert.ok(tcpAddr?.startsWith('/ip4/127.0.0.1/tcp/'), `a TCP address in ${a.addresses().join(' ')}`)
      assert.ok(wsAddr?.startsWith('/ip4/127.0.0.1/tcp/'), `a WebSockets address in ${a.addresses().join(' ')}`)
      assert.deepEqual(await b.dial(wsAddr as string), a.self)
      const got = new Promise<string>(resolve => { a.onMessage((from, topic) => { resolve(`${toHex(from)}:${topic}`) }) })
      b.send(a.self, 'direct/1', new Uint8Array([1, 2, 3]))
      assert.equal(await got, `${toHex(b.self)}:direct/1`)
    } finally {
      await closeAll([a, b])
    }
  })
})

describe('Libp2pTransport discovery (Kademlia DHT)', T, () => {
  it('connects to a peer it was never told about: A and C only know B', async () => {
    const b = await node()
    const [a, c] = await Promise.all([node({ bootstrap: b.addresses() }), node({ bootstrap: b.addresses() })])
    try {
      // Bootstrap dials after ~1 s; A's DHT self-query asks B, learns C, and the discovery dialler
      // connects (A keeps dialling while it has fewer than minConnections = 8).
      await eventually(() => hasPeer(a, c.self) && hasPeer(c, a.self), 300, 'A and C connected through DHT discovery')
      assert.ok(a.stats.discoveryDials + c.stats.discoveryDials >= 1)
    } finally {
      await closeAll([a, b, c])
    }
  })

  it('findPeer() resolves a key to dialable addresses through the DHT', async () => {
    const b = await node()
    // minConnections 0: A never dials what it discovers, so only findPeer + dial connect it to C.
    const a = await node({ minConnections: 0 })
    const c = await node()
    try {
      await a.dial(b.addresses()[0] as string)
      await c.dial(b.addresses()[0] as string)
      assert.equal(hasPeer(a, c.self), false)
      const addrs = await a.findPeer(c.self, { signal: AbortSignal.timeout(READY_MS) })
      const id = c.addresses()[0]?.split('/p2p/')[1] as string
      assert.ok(addrs.length > 0 && addrs.every(x => x.endsWith(`/p2p/${id}`)), addrs.join(' '))
      assert.deepEqual(await a.dial(addrs[0] as string), c.self)
      assert.equal(a.stats.discoveryDials, 0)
    } finally {
      await closeAll([a, b, c])
    }
  })

  it('without the DHT, a node does not find a stranger', async () => {
    const b = await node({ dht: false })
    const [a, c] = await Promise.all([node({ dht: false }), node({ dht: false })])
    try {
      await a.dial(b.addresses()[0] as string)
      await c.dial(b.addresses()[0] as string)
      await assert.rejects(a.findPeer(c.self, { signal: AbortSignal.timeout(2000) }))
    } finally {
      await closeAll([a, b, c])
    }
  })
})

describe('Libp2pTransport circuit relay v2', T, () => {
  it('a relay advertises the hop protocol; a relay-only node is reached through it', async () => {
    const relay = await node({ relay: true, dht: false })
    const relayTcp = relay.addresses().find(x => !x.includes('/ws/')) as string
    // C has no direct listener at all: only a reservation on the relay.
    const c = await node({ listen: [`${relayTcp}/p2p-circuit`], dht: false })
    const a = await node({ dht: false })
    const outsider = await createLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      addresses: { listen: [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() }
    })
    try {
      const relayConn = await outsider.dial(multiaddr(relayTcp))
      let protocols: string[] = []
      for (let i = 0; i < 100 && !protocols.includes(RELAY_HOP_PROTOCOL); i++) {
        protocols = (await outsider.peerStore.get(relayConn.remotePeer)).protocols
        if (!protocols.includes(RELAY_HOP_PROTOCOL)) await sleep(50)
      }
      assert.ok(protocols.includes(RELAY_HOP_PROTOCOL), `relay protocols: ${protocols.join(' ')}`)

      await eventually(() => c.addresses().some(x => x.includes('/p2p-circuit/')), 200, 'C to hold a reservation on the relay')
      const circuit = c.addresses().find(x => x.includes('/p2p-circuit/')) as string
      assert.ok(circuit.startsWith(relayTcp), circuit)
      assert.ok(c.addresses().every(x => x.includes('/p2p-circuit/')), 'C has no direct address')
      assert.deepEqual(await a.dial(circuit), c.self)
      const got = new Promise<string>(resolve => { c.onMessage((from, topic, data) => { resolve(`${toHex(from)}:${topic}:${toHex(data)}`) }) })
      a.send(c.self, 'direct/1', new Uint8Array([9, 9]))
      assert.equal(await got, `${toHex(a.self)}:direct/1:0909`)
    } finally {
      await outsider.stop()
      await closeAll([a, c, relay])
    }
  })

  it('a node without the relay option refuses reservations', async () => {
    const plain = await node({ dht: false })
    const c = await node({ listen: [`${plain.addresses()[0] as string}/p2p-circuit`], dht: false }).catch((error: unknown) => error)
    try {
      // Either create() fails to listen, or it starts without any circuit address.
      if (c instanceof Libp2pTransport) {
        await sleep(300)
        assert.equal(c.addresses().some(x => x.includes('/p2p-circuit')), false)
      } else {
        assert.ok(c instanceof Error)
      }
    } finally {
      if (c instanceof Libp2pTransport) await c.close()
      await plain.close()
    }
  })
})

describe('Libp2pTransport penalties and scoring', T, () => {
  it('graylists then bans a peer penalized repeatedly; an honest peer is unaffected', async () => {
    const topic = 'edge-net/tasks/1'
    const all = await Promise.all([0, 1, 2].map(async () => await node({ topics: [topic], dht: false, scoreOf: () => 1 })))
    const [a, honest, bad] = all as [Libp2pTransport, Libp2pTransport, Libp2pTransport]
    try {
      await honest.dial(a.addresses()[0] as string)
      await bad.dial(a.addresses()[0] as string)
      await bad.dial(honest.addresses()[0] as string)
      await Promise.all(all.map(async t => { await t.ready(all.filter(u => u !== t).map(u => u.self), { signal: AbortSignal.timeout(READY_MS) }) }))
      const seen: string[] = []
      const seenByHonest: string[] = []
      a.onMessage((from, _t, data) => { seen.push(`${toHex(from).slice(0, 8)}:${new TextDecoder().decode(data)}`) })
      honest.onMessage((_from, _t, data) => { seenByHonest.push(new TextDecoder().decode(data)) })
      const tag = (t: Libp2pTransport): string => toHex(t.self).slice(0, 8)

      bad.publish(topic, new TextEncoder().encode('before'))
      await eventually(() => seen.includes(`${tag(bad)}:before`), 200, 'A to hear the peer before any penalty')

      // Penalize until graylisted; each step is reported back.
      let penalties = 0
      for (let standing = a.standing(bad.self); !standing.graylisted; penalties++) standing = a.penalize(bad.self, 'invalid ledger event')
      assert.ok(penalties >= 5 && penalties <= 6, `graylisted after ${penalties} penalties`)
      assert.equal(a.standing(bad.self).banned, false)
      assert.ok(hasPeer(a, bad.self), 'graylisted is not yet disconnected')
      // Gossipsub's own score agrees once its per-heartbeat cache refreshes.
      await eventually(() => a.standing(bad.self).score < -80, 100, 'gossipsub score below the graylist threshold')

      // Its publications no longer reach A's handler (neither directly nor relayed by honest),
      // while honest's still do.
      bad.publish(topic, new TextEncoder().encode('after'))
      await eventually(() => seenByHonest.includes('after'), 200, 'the honest peer to receive the later publication')
      honest.publish(topic, new TextEncoder().encode('fence'))
      await eventually(() => seen.includes(`${tag(honest)}:fence`), 200, 'the honest fence')
      await sleep(200)
      assert.equal(seen.includes(`${tag(bad)}:after`), false, 'a graylisted peer\'s later publication is not delivered')

      // Past the ban bound: disconnected and refused.
      while (!a.standing(bad.self).banned) a.penalize(bad.self, 'forged message')
      assert.equal(a.stats.bans, 1)
      await eventually(() => !hasPeer(a, bad.self), 100, 'the banned peer to be disconnected')
      // A refuses to dial it, and drops its inbound connection once Noise names it (the dialler
      // may see the handshake complete before the responder's gate closes it).
      await assert.rejects(a.dial(bad.addresses()[0] as string))
      await bad.dial(a.addresses()[0] as string).catch(() => {})
      await eventually(() => !hasPeer(bad, a.self), 100, 'the banned peer\'s new connection to be dropped')
      assert.equal(hasPeer(a, bad.self), false)

      const h = a.standing(honest.self)
      assert.deepEqual([h.graylisted, h.banned, h.penalties], [false, false, 0])
      assert.ok(h.score >= 0, `honest score ${h.score}`)
      honest.publish(topic, new TextEncoder().encode('still'))
      await eventually(() => seen.includes(`${tag(honest)}:still`), 200, 'the honest peer to keep being heard')
    } finally {
      await closeAll(all)
    }
  })

  it('penalize() and standing() refuse a key that is not 32 bytes', async () => {
    const t = await node({ dht: false })
    try {
      assert.throws(() => t.penalize(new Uint8Array(31), 'x'), (e: unknown) => e instanceof TransportError && e.code === 'ERR_BAD_PEER_KEY')
      assert.throws(() => t.standing(new Uint8Array(33)), (e: unknown) => e instanceof TransportError && e.code === 'ERR_BAD_PEER_KEY')
      assert.equal(t.stats.penalties, 0)
    } finally {
      await t.close()
    }
  })
})
