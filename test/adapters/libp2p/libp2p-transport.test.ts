/**
 * Libp2pTransport (src/adapters/libp2p/) on real libp2p nodes over loopback (TCP + WebSockets, DHT on): the Transport
 * compliance suite with 3 nodes that dial each other explicitly (mDNS off), the adapter's own rules
 * (peer id = identity key, receive-side size cap, input errors), and two EdgeNodes completing an
 * encryption task over it.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { toHex } from '../../../src/core/bytes.ts'
import { credits } from '../../../src/core/economy/index.ts'
import { Identity } from '../../../src/core/identity/index.ts'
import { KERNELS, encodeEncryptionPayload } from '../../../src/core/kernels/index.ts'
import { Account, Ledger } from '../../../src/core/ledger/index.ts'
import { EdgeNode } from '../../../src/runtime/edge-node.ts'
import { TASK_TOPIC } from '../../../src/runtime/index.ts'
import { DIRECT_PROTOCOL, Libp2pTransport, MAX_TOPIC_BYTES, TransportError, directProtocol, encodeDirectFrame } from '../../../src/adapters/libp2p/index.ts'
import type { TransportErrorCode } from '../../../src/adapters/libp2p/index.ts'
import { COMPLIANCE_TOPICS, transportCompliance } from '../../compliance/transport.ts'
import type { TransportFixture } from '../../compliance/transport.ts'

const CAP = 64 * 1024
const READY_MS = 10_000
/** A regression must fail, not hang the run (node:test has no default timeout). */
const TEST_TIMEOUT = { timeout: 20_000 }

/** Dial every pair once, then wait until each node sees every other one subscribed. */
async function mesh (transports: readonly Libp2pTransport[]): Promise<void> {
  for (let i = 0; i < transports.length; i++) {
    for (let j = i + 1; j < transports.length; j++) {
      await (transports[i] as Libp2pTransport).dial((transports[j] as Libp2pTransport).addresses()[0] as string)
    }
  }
  await Promise.all(transports.map(async (t) => {
    await t.ready(transports.filter(u => u !== t).map(u => u.self), { signal: AbortSignal.timeout(READY_MS) })
  }))
}

/** A bare libp2p node (not an edge-net transport) with a fresh key: an outsider on the wire. */
async function rawNode () {
  return await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}

/** Open the direct protocol to `target` from an outsider and write raw length-prefixed frames. */
async function writeRaw (target: Libp2pTransport, frames: readonly Uint8Array[], maxDataLength: number): Promise<{ closed: Promise<void>, stop: () => Promise<void> }> {
  const node = await rawNode()
  const stream = await node.dialProtocol(multiaddr(target.addresses()[0] as string), DIRECT_PROTOCOL)
  const closed = new Promise<void>(resolve => { stream.addEventListener('close', () => { resolve() }, { once: true }) })
  const lp = lpStream(stream, { maxDataLength })
  for (const frame of frames) await lp.write(frame)
  return { closed, stop: async () => { await node.stop() } }
}

async function fixture (count: number): Promise<TransportFixture> {
  const identities = await Promise.all(Array.from({ length: count }, async () => await Identity.generate()))
  const transports = await Promise.all(identities.map(async identity =>
    await Libp2pTransport.create({ identity, topics: [...COMPLIANCE_TOPICS], maxMessageBytes: CAP, mdns: false })))
  await mesh(transports)
  const impersonate = async (_victim: Uint8Array, target: number, topic: string, data: Uint8Array): Promise<void> => {
    // The frame has no sender field: the receiver takes `from` from the Noise-proven connection,
    // so the outsider can only ever appear as itself.
    const raw = await writeRaw(transports[target] as Libp2pTransport, [encodeDirectFrame(topic, data)], CAP + 1 + MAX_TOPIC_BYTES)
    await raw.stop()
  }
  return { transports, impersonate, cleanup: async () => {} }
}

transportCompliance('Libp2pTransport (3 nodes, loopback, default options but mDNS off)', fixture, {
  maxMessageBytes: CAP,
  oversize: 'throws',
  isOversizeError: err => err instanceof TransportError && err.code === 'ERR_MESSAGE_TOO_LARGE',
  authenticated: true,
  quietMs: 150
})

const isCode = (code: TransportErrorCode) => (err: unknown): boolean => err instanceof TransportError && err.code === code

describe('Libp2pTransport', TEST_TIMEOUT, () => {
  it('uses the identity key as its libp2p peer id', async () => {
    const identity = await Identity.generate()
    const t = await Libp2pTransport.create({ identity, mdns: false })
    try {
      assert.deepEqual(t.self, identity.publicKey)
      const peerId = peerIdFromPublicKey(publicKeyFromRaw(identity.publicKey)).toString()
      assert.ok(t.addresses().length > 0)
      for (const a of t.addresses()) assert.ok(a.startsWith('/ip4/127.0.0.1/tcp/') && a.endsWith(`/p2p/${peerId}`), a)
    } finally {
      await t.close()
    }
  })

  it('reports a dialled peer by the key Noise proved, and `from` is the outsider itself', async () => {
    const [ia, ib] = await Promise.all([Identity.generate(), Identity.generate()])
    const [a, b] = await Promise.all([Libp2pTransport.create({ identity: ia, mdns: false }), Libp2pTransport.create({ identity: ib, mdns: false })])
    try {
      assert.deepEqual(await a.dial(b.addresses()[0] as string), ib.publicKey)
      const got: string[] = []
      const arrived = new Promise<void>(resolve => { b.onMessage((from, topic) => { got.push(`${toHex(from)}:${topic}`); resolve() }) })
      const outsider = await rawNode()
      const stream = await outsider.dialProtocol(multiaddr(b.addresses()[0] as string), DIRECT_PROTOCOL)
      await lpStream(stream).write(encodeDirectFrame('t', new Uint8Array([1])))
      await arrived
      assert.deepEqual(got, [`${toHex(outsider.peerId.publicKey?.raw ?? new Uint8Array(0))}:t`])
      await outsider.stop()
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('carries a directTopics topic on a protocol of its own, and refuses that topic on the generic one', async () => {
    const topic = 'edge-net/own/1'
    assert.equal(directProtocol(topic), '/edge-net/own/1')
    const [ia, ib] = await Promise.all([Identity.generate(), Identity.generate()])
    const [a, b] = await Promise.all([ia, ib].map(async identity => await Libp2pTransport.create({ identity, mdns: false, directTopics: [topic] })))
    const outsider = await rawNode()
    try {
      await (a as Libp2pTransport).dial((b as Libp2pTransport).addresses()[0] as string)
      const got: string[] = []
      let wake = (): void => {}
      ;(b as Libp2pTransport).onMessage((from, t, data) => { got.push(`${toHex(from)}:${t}:${toHex(data)}`); wake() })
      const until = async (n: number): Promise<void> => { while (got.length < n) await new Promise<void>(resolve => { wake = resolve }) }
      ;(a as Libp2pTransport).send(ib.publicKey, topic, Uint8Array.of(1, 2, 3))
      await until(1)
      assert.deepEqual(got, [`${toHex(ia.publicKey)}:${topic}:010203`])
      // Frames on the topic's own protocol are the message alone.
      const target = multiaddr((b as Libp2pTransport).addresses()[0] as string)
      const own = lpStream(await outsider.dialProtocol(target, '/edge-net/own/1'))
      await own.write(Uint8Array.of(9))
      await until(2)
      const me = toHex(outsider.peerId.publicKey?.raw ?? new Uint8Array(0))
      assert.equal(got[1], `${me}:${topic}:09`)
      // The same topic named on the generic protocol is refused; another topic still arrives.
      const refused = (b as Libp2pTransport).stats.refused
      const generic = lpStream(await outsider.dialProtocol(target, DIRECT_PROTOCOL))
      await generic.write(encodeDirectFrame(topic, Uint8Array.of(7)))
      await generic.write(encodeDirectFrame('t', Uint8Array.of(8)))
      await until(3)
      assert.equal(got[2], `${me}:t:08`)
      assert.equal(got.length, 3)
      assert.equal((b as Libp2pTransport).stats.refused, refused + 1)
    } finally {
      await outsider.stop()
      await Promise.all([a, b].map(async t => await (t as Libp2pTransport).close()))
    }
  })

  it('refuses a bad directTopics entry before starting', async () => {
    await assert.rejects(Libp2pTransport.create({ identity: await Identity.generate(), mdns: false, directTopics: [''] }), isCode('ERR_BAD_TOPIC'))
  })

  it('connects to its bootstrap list without an explicit dial', async () => {
    const a = await Libp2pTransport.create({ identity: await Identity.generate(), topics: ['t'], mdns: false })
    const b = await Libp2pTransport.create({ identity: await Identity.generate(), topics: ['t'], bootstrap: a.addresses(), mdns: false })
    try {
      // @libp2p/bootstrap waits 1 s after start before it dials.
      await Promise.all([b.ready([a.self], { signal: AbortSignal.timeout(READY_MS) }), a.ready([b.self], { signal: AbortSignal.timeout(READY_MS) })])
      const got = new Promise<Uint8Array>(resolve => { a.onMessage((from) => { resolve(from) }) })
      b.publish('t', new Uint8Array([7]))
      assert.deepEqual(await got, b.self)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('refuses an inbound frame above the cap: the stream is aborted and nothing delivered', async () => {
    const t = await Libp2pTransport.create({ identity: await Identity.generate(), maxMessageBytes: 1024, mdns: false })
    try {
      const got: Uint8Array[] = []
      t.onMessage((_from, _topic, data) => { got.push(data) })
      const big = encodeDirectFrame('t', new Uint8Array(1025))
      const raw = await writeRaw(t, [big], 1 << 20)
      await raw.closed
      await raw.stop()
      assert.equal(t.stats.refused, 1)
      assert.equal(got.length, 0)
    } finally {
      await t.close()
    }
  })

  it('throws typed errors for bad input and bad options, and sends nothing', async () => {
    const t = await Libp2pTransport.create({ identity: await Identity.generate(), mdns: false })
    try {
      assert.throws(() => { t.send(new Uint8Array(31), 't', new Uint8Array(1)) }, isCode('ERR_BAD_PEER_KEY'))
      assert.throws(() => { t.send(new Uint8Array(32), '', new Uint8Array(1)) }, isCode('ERR_BAD_TOPIC'))
      assert.throws(() => { t.publish('x'.repeat(MAX_TOPIC_BYTES + 1), new Uint8Array(1)) }, isCode('ERR_BAD_TOPIC'))
      assert.throws(() => { t.publish('t', 'text' as unknown as Uint8Array) }, isCode('ERR_BAD_MESSAGE'))
      await assert.rejects(t.dial('not a multiaddr'), isCode('ERR_BAD_TRANSPORT_OPTIONS'))
      assert.equal(t.stats.sent + t.stats.published, 0)
    } finally {
      await t.close()
    }
    const identity = await Identity.generate()
    await assert.rejects(Libp2pTransport.create({ identity, maxMessageBytes: 0 }), isCode('ERR_BAD_TRANSPORT_OPTIONS'))
    await assert.rejects(Libp2pTransport.create({ identity, listen: ['nope'] }), isCode('ERR_BAD_TRANSPORT_OPTIONS'))
    await assert.rejects(Libp2pTransport.create({ identity, topics: [''] }), isCode('ERR_BAD_TOPIC'))
  })
})

describe('EdgeNode over Libp2pTransport', TEST_TIMEOUT, () => {
  it('completes an encryption task between a submitter and a worker on loopback', async () => {
    const [subId, workerId] = await Promise.all([Identity.generate(), Identity.generate()])
    const ledger = Ledger.create({ config: { networkId: 'libp2p-test', genesis: [subId, workerId].map(id => ({ account: id.publicKey, amount: credits(10_000) })) } })
    const clock = { now: () => Date.now() }
    for (const id of [subId, workerId]) await new Account({ ledger, signer: id, clock }).stake(credits(200))
    const [ts, tw] = await Promise.all([subId, workerId].map(async identity => await Libp2pTransport.create({ identity, topics: [TASK_TOPIC], mdns: false })))
    const nodes: EdgeNode[] = []
    try {
      await mesh([ts as Libp2pTransport, tw as Libp2pTransport])
      const common = { ledger, submitter: { spotCheckRate: 0, redundancy: 1, roundMs: 300 } }
      nodes.push(await EdgeNode.create({ ...common, identity: subId, transport: ts as Libp2pTransport, worker: { enabled: false } }))
      nodes.push(await EdgeNode.create({ ...common, identity: workerId, transport: tw as Libp2pTransport }))
      const payload = encodeEncryptionPayload({ op: 'encrypt', key: crypto.getRandomValues(new Uint8Array(32)), iv: crypto.getRandomValues(new Uint8Array(12)), data: new Uint8Array([1, 2, 3, 4]) })
      const result = await (nodes[0] as EdgeNode).submit({ type: 'encryption', payload })
      assert.equal(result.verified, true)
      assert.deepEqual(result.output, await (KERNELS.encryption as NonNullable<typeof KERNELS.encryption>).run(payload))
      assert.deepEqual(result.workers, [workerId.publicKey])
      assert.ok((tw as Libp2pTransport).stats.sent > 0 && (ts as Libp2pTransport).stats.sent > 0, 'the task protocol went over direct streams')
    } finally {
      for (const n of nodes) await n.stop()
      await Promise.all([ts?.close(), tw?.close()])
    }
  })
})
