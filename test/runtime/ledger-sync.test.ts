/**
 * LedgerSync (src/runtime/ledger-sync.ts) on the seeded MemoryNetwork: gossip plus periodic
 * Merkle-range anti-entropy make every replica converge (equal state roots, nothing pending) under
 * drops and duplicates, across a partition that heals, and for a node that joins late and hears
 * no gossip at all; garbage, forged, invalid and oversized messages count against their sender
 * and change nothing. Convergence is polled for a bounded number of rounds, never timed.
 * SEED=n reproduces a run.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { toHex } from '../../src/core/bytes.ts'
import { encodeCanonical } from '../../src/core/codec/index.ts'
import { credits } from '../../src/core/economy/index.ts'
import type { Identity } from '../../src/core/identity/index.ts'
import { Account, Ledger } from '../../src/core/ledger/index.ts'
import type { LedgerConfig } from '../../src/core/ledger/index.ts'
import { MemoryNetwork } from '../../src/runtime/memory-network.ts'
import type { MemoryTransport } from '../../src/runtime/memory-network.ts'
import {
  LEDGER_SYNC_ERROR_CODES, LEDGER_SYNC_TOPIC, LEDGER_TOPIC, LedgerSync, LedgerSyncError, MAX_INBOUND_BYTES, MIN_MESSAGE_BYTES
} from '../../src/runtime/ledger-sync.ts'
import type { LedgerSyncErrorCode } from '../../src/runtime/ledger-sync.ts'
import { chunkEvents, decodeDirect, decodeGossip, encodeDirect, encodeGossip } from '../../src/runtime/ledger-sync-wire.ts'
import type { DirectFrame } from '../../src/runtime/ledger-sync-wire.ts'
import { identities, prng, testConfig } from '../helpers/fixtures.ts'

const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)
const at = `(seed ${seed}; rerun with SEED=${seed})`
console.log(`ledger-sync seed: ${seed}`)
/** node:test has no default timeout: a regression must fail, not hang. */
const T = { timeout: 60_000 }
const clock = { now: () => Date.now() }

interface Node {
  identity: Identity
  ledger: Ledger
  transport: MemoryTransport
  sync: LedgerSync
  account: Account
  invalid: Array<{ count: number, code: LedgerSyncErrorCode }>
}

const open: LedgerSync[] = []
after(async () => { for (const s of open) await s.close() })

function config (funded: readonly Identity[]): Partial<LedgerConfig> & { networkId: string } {
  return testConfig({ genesis: funded.map(i => ({ account: i.publicKey, amount: credits(1000) })) })
}

function makeNode (net: MemoryNetwork, identity: Identity, cfg: Partial<LedgerConfig> & { networkId: string }, n: number, extra: Partial<ConstructorParameters<typeof LedgerSync>[0]> = {}): Node {
  const ledger = Ledger.create({ config: cfg })
  const transport = net.join(identity.publicKey)
  const invalid: Node['invalid'] = []
  const sync = new LedgerSync({
    ledger,
    transport,
    clock,
    random: prng(seed * 31 + n),
    batchMs: 2,
    sessionTimeoutMs: 300,
    gapSyncMs: 50,
    onInvalid: (_peer, count, error) => { invalid.push({ count, code: error.code }) },
    onError: (error) => { throw error },
    ...extra
  })
  open.push(sync)
  transport.onMessage((from, topic, data) => { sync.handle(from, topic, data) })
  return { identity, ledger, transport, sync, account: new Account({ ledger, signer: identity, clock }), invalid }
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Poll until every node holds `expected` events, nothing pending, one root; returns the polls it took. */
async function converge (nodes: readonly Node[], expected: number, maxPolls: number, pollMs = 20): Promise<number> {
  for (let poll = 0; poll < maxPolls; poll++) {
    const roots = new Set(nodes.map(n => n.ledger.stateRootHex()))
    if (roots.size === 1 && nodes.every(n => n.ledger.size === expected && n.ledger.pendingCount === 0)) return poll
    await sleep(pollMs)
  }
  const sizes = nodes.map(n => `${n.ledger.size}/${n.ledger.pendingCount}`).join(' ')
  assert.fail(`no convergence after ${maxPolls} polls ${at}: sizes/pending ${sizes}, expected ${expected}`)
}

/** `rounds` rounds in which every node transfers a small random amount to another, gossiping it. */
async function workload (nodes: readonly Node[], rounds: number, rand: () => number): Promise<number> {
  let made = 0
  for (let r = 0; r < rounds; r++) {
    await Promise.all(nodes.map(async (node, i) => {
      const to = nodes[(i + 1 + Math.floor(rand() * (nodes.length - 1))) % nodes.length] as Node
      const event = await node.account.transfer(to.identity.publicKey, credits(1 + Math.floor(rand() * 5)))
      node.sync.announce(event)
      made++
    }))
    await sleep(Math.floor(rand() * 4))
  }
  return made
}

function assertClean (nodes: readonly Node[]): void {
  for (const n of nodes) {
    assert.deepEqual(n.invalid, [], `an honest node was counted as an offender ${at}`)
    for (const m of nodes) if (m !== n) assert.equal(n.sync.peerScore(m.identity.publicKey), 0, at)
  }
}

describe('LedgerSync on a MemoryNetwork', () => {
  it('5 nodes converge by gossip and anti-entropy with 10% drops and duplicates', T, async () => {
    const ids = await identities(5)
    const net = new MemoryNetwork({ seed, drop: 0.1, duplicate: 0.1, delayMs: [0, 3] })
    const nodes = ids.map((id, i) => makeNode(net, id, config(ids), i))
    for (const n of nodes) n.sync.start({ intervalMs: 15 })
    const made = await workload(nodes, 12, prng(seed))
    const polls = await converge(nodes, made, 400)
    console.log(`5 nodes, ${made} events: converged after ${polls} polls; network ${JSON.stringify(net.stats)}`)
    assert.ok(net.stats.dropped > 0 && net.stats.duplicated > 0, `the network should have misbehaved ${at}`)
    assert.ok(nodes.some(n => n.sync.stats.sessionsCompleted > 0), at)
    assert.ok(nodes.some(n => n.sync.stats.eventsSent > 0), `lost gossip was repaired by sync or want replies ${at}`)
    assertClean(nodes)
  })

  it('converges after a partition heals, and not before', T, async () => {
    const ids = await identities(4)
    const net = new MemoryNetwork({ seed: seed + 1, drop: 0.05, duplicate: 0.05 })
    const nodes = ids.map((id, i) => makeNode(net, id, config(ids), i))
    // Each side hears only its own side while split: the peers across are known from the start
    // (as a bootstrap list or the transport's connections would give them).
    for (const n of nodes) for (const m of nodes) n.sync.addPeer(m.identity.publicKey)
    for (const n of nodes) n.sync.start({ intervalMs: 15 })
    const left = nodes.slice(0, 2)
    const right = nodes.slice(2)
    net.partition([left.map(n => n.identity.publicKey), right.map(n => n.identity.publicKey)])
    const rand = prng(seed + 2)
    // Transfers inside each side only (a transfer across is just as valid, but would not be seen).
    const made = await workload(left, 6, rand) + await workload(right, 6, rand)
    await converge(left, 12, 400)
    await converge(right, 12, 400)
    assert.notEqual(left[0]?.ledger.stateRootHex(), right[0]?.ledger.stateRootHex(), at)
    net.heal()
    const polls = await converge(nodes, made, 400)
    console.log(`partition healed: converged after ${polls} polls`)
    assertClean(nodes)
  })

  it('a node that joins late catches up by anti-entropy alone', T, async () => {
    const ids = await identities(4)
    const net = new MemoryNetwork({ seed: seed + 3, drop: 0.1, duplicate: 0.05 })
    const early = ids.slice(0, 3).map((id, i) => makeNode(net, id, config(ids), i))
    for (const n of early) n.sync.start({ intervalMs: 15 })
    const made = await workload(early, 15, prng(seed + 4))
    await converge(early, made, 400)
    for (const n of early) n.sync.flush()
    const published = early.reduce((sum, n) => sum + n.sync.stats.published, 0)
    const late = makeNode(net, ids[3] as Identity, config(ids), 3)
    late.sync.addPeer((early[0] as Node).identity.publicKey)
    late.sync.start({ intervalMs: 15 })
    const polls = await converge([...early, late], made, 400)
    console.log(`late joiner caught up ${made} events after ${polls} polls`)
    assert.equal(early.reduce((sum, n) => sum + n.sync.stats.published, 0), published, `nothing was gossiped after the join ${at}`)
    assert.equal(late.sync.stats.eventsReceived >= made, true, at)
    assert.ok(early.some(n => n.sync.stats.eventsSent > 0), `the events came by sync ${at}`)
    assertClean([...early, late])
  })

  it('garbage, forged, invalid and oversized messages count against the sender and change nothing', T, async () => {
    const ids = await identities(3)
    const [alice, bob, mallory] = ids as [Identity, Identity, Identity]
    const net = new MemoryNetwork({ seed: seed + 5 })
    const victim = makeNode(net, alice, config([alice, bob]), 0)
    const honest = makeNode(net, bob, config([alice, bob]), 1)
    const evil = net.join(mallory.publicKey)
    const evilInbox: Array<{ topic: string, data: Uint8Array }> = []
    evil.onMessage((_from, topic, data) => { evilInbox.push({ topic, data }) })
    // Same network id, other genesis: mallory is funded there, so her transfer is well signed yet
    // an overdraft on the real network.
    const fake = Ledger.create({ config: config([mallory]) })
    const overdraft = await new Account({ ledger: fake, signer: mallory, clock }).transfer(alice.publicKey, credits(5))
    const valid = await honest.account.transfer(alice.publicKey, credits(1))
    const forged = valid.bytes.slice()
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1
    const before = victim.ledger.stateRootHex()
    const sizeBefore = victim.ledger.size
    const a = alice.publicKey
    evil.publish(LEDGER_TOPIC, new Uint8Array([1, 2, 3]))                               // garbage gossip
    evil.send(a, LEDGER_SYNC_TOPIC, encodeCanonical([1, 9, 0]))                           // unknown kind
    evil.send(a, LEDGER_SYNC_TOPIC, new Uint8Array(MAX_INBOUND_BYTES + 1))                // oversized
    evil.publish(LEDGER_TOPIC, encodeGossip([forged]))                                    // bad signature
    evil.publish(LEDGER_TOPIC, encodeGossip([overdraft.bytes]))                           // refused by the rules
    evil.send(a, LEDGER_SYNC_TOPIC, encodeDirect({ kind: 'events', events: [new Uint8Array(40)] })) // not an event
    evil.send(a, LEDGER_SYNC_TOPIC, encodeDirect({ kind: 'sync', session: 7, initiator: true, step: 0, message: new Uint8Array([0x80]) }))
    await sleep(50)
    await victim.sync.close()
    assert.equal(victim.ledger.stateRootHex(), before, `nothing mallory sent may apply ${at}`)
    assert.equal(victim.ledger.size, sizeBefore, at)
    assert.equal(victim.ledger.pendingCount, 0, at)
    const stats = victim.sync.peerStats(mallory.publicKey)
    assert.ok(stats !== undefined)
    assert.equal(stats.invalidEvents, 3, `forged, overdraft and non-event ${at}`)
    assert.equal(stats.badMessages, 4, `garbage, unknown kind, oversized, bad sync step ${at}`)
    assert.equal(victim.sync.peerScore(mallory.publicKey), -7, at)
    assert.deepEqual(victim.invalid.map(i => i.count).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7], at)
    assert.deepEqual(new Set(victim.invalid.map(i => i.code)), new Set(['ERR_SYNC_MALFORMED', 'ERR_SYNC_OVERSIZED', 'ERR_SYNC_INVALID_EVENT']), at)
    assert.ok(evilInbox.some(m => { const f = decodeDirect(m.data); return f.kind === 'abort' }), `the bad session was aborted ${at}`)
    assert.equal(victim.sync.peerScore(bob.publicKey), 0, at)
  })

  it('drops a peer\'s messages unread past `ignoreAfter` offences', T, async () => {
    const ids = await identities(2)
    const net = new MemoryNetwork({ seed: seed + 6 })
    const victim = makeNode(net, ids[0] as Identity, config(ids), 0, { ignoreAfter: 2 })
    const other = makeNode(net, ids[1] as Identity, config(ids), 1)
    for (let i = 0; i < 3; i++) other.transport.publish(LEDGER_TOPIC, new Uint8Array([0xff, i]))
    await sleep(30)
    victim.sync.announce(await victim.account.transfer((ids[1] as Identity).publicKey, credits(1)))
    const valid = await other.account.transfer((ids[0] as Identity).publicKey, credits(1))
    other.sync.announce(valid)
    other.sync.flush()
    await sleep(30)
    assert.equal(victim.sync.peerScore((ids[1] as Identity).publicKey), -2, at)
    assert.equal(victim.ledger.has(valid.id), false, `an ignored peer's event is not even read ${at}`)
    assert.ok(victim.sync.stats.dropped >= 2, at)
    assert.deepEqual(victim.sync.peers(), [], at)
  })
})

describe('LedgerSync.syncWith()', () => {
  it('sends what the peer lacks and receives what it has', T, async () => {
    const ids = await identities(2)
    const [alice, bob] = ids as [Identity, Identity]
    const net = new MemoryNetwork({ seed: seed + 7 })
    const a = makeNode(net, alice, config(ids), 0)
    const b = makeNode(net, bob, config(ids), 1)
    // No gossip: events are appended without announce().
    for (let i = 0; i < 40; i++) await a.account.transfer(bob.publicKey, credits(1))
    for (let i = 0; i < 25; i++) await b.account.transfer(alice.publicKey, credits(1))
    const report = await a.sync.syncWith(bob.publicKey)
    assert.equal(report.sent, 40, at)
    assert.equal(report.missing, 25, at)
    assert.ok(report.messages >= 2 && report.bytes > 0, at)
    await converge([a, b], 65, 100, 5)
    const again = await b.sync.syncWith(alice.publicKey)
    assert.deepEqual([again.sent, again.missing, again.messages], [0, 0, 2], `equal roots end in one round trip ${at}`)
  })

  it('times out, refuses beyond the session cap, and fails typed after close', T, async () => {
    const ids = await identities(3)
    const net = new MemoryNetwork({ seed: seed + 8 })
    const a = makeNode(net, ids[0] as Identity, config(ids), 0, { sessionTimeoutMs: 30, maxSessionsPerPeer: 1 })
    makeNode(net, ids[1] as Identity, config(ids), 1)
    const ghost = (ids[2] as Identity).publicKey // never joined: every message to it is lost
    await assert.rejects(a.sync.syncWith(ghost), (err: unknown) => err instanceof LedgerSyncError && err.code === 'ERR_SYNC_TIMEOUT')
    assert.equal(a.sync.peerStats(ghost)?.timeouts, 1)
    assert.equal(a.sync.peerScore(ghost), 0, 'a timeout is not an offence')
    const first = a.sync.syncWith(ghost)
    await assert.rejects(a.sync.syncWith(ghost), (err: unknown) => err instanceof LedgerSyncError && err.code === 'ERR_SYNC_BUSY')
    await assert.rejects(a.sync.syncWith(new Uint8Array(5)), (err: unknown) => err instanceof LedgerSyncError && err.code === 'ERR_SYNC_BAD_OPTIONS')
    await assert.rejects(a.sync.syncWith(a.identity.publicKey), (err: unknown) => err instanceof LedgerSyncError && err.code === 'ERR_SYNC_BAD_OPTIONS')
    await a.sync.close()
    await assert.rejects(first, (err: unknown) => err instanceof LedgerSyncError && err.code === 'ERR_SYNC_CLOSED')
    await assert.rejects(a.sync.syncWith((ids[1] as Identity).publicKey), (err: unknown) => err instanceof LedgerSyncError && err.code === 'ERR_SYNC_CLOSED')
    assert.throws(() => { a.sync.announce(new Uint8Array(32)) }, (err: unknown) => err instanceof LedgerSyncError && err.code === 'ERR_SYNC_CLOSED')
  })

  it('refuses bad options and announcements of events it does not hold', async () => {
    const ids = await identities(1)
    const net = new MemoryNetwork({ seed })
    const ledger = Ledger.create({ config: config(ids) })
    const transport = net.join(new Uint8Array(32).fill(9))
    const bad = (init: object): void => {
      assert.throws(() => new LedgerSync({ ledger, transport, ...init }), (err: unknown) => err instanceof LedgerSyncError && err.code === 'ERR_SYNC_BAD_OPTIONS')
    }
    bad({ maxMessageBytes: MIN_MESSAGE_BYTES - 1 })
    bad({ maxMessageBytes: 2 * 1024 * 1024 })
    bad({ batchMs: -1 })
    bad({ sessionTimeoutMs: 0 })
    bad({ maxSessionsPerPeer: 0 })
    bad({ idListThreshold: 0 })
    const sync = new LedgerSync({ ledger, transport })
    assert.throws(() => { sync.announce(new Uint8Array(32)) }, (err: unknown) => err instanceof LedgerSyncError && err.code === 'ERR_SYNC_BAD_OPTIONS')
    assert.throws(() => { sync.announce(new Uint8Array(100)) }, (err: unknown) => err instanceof LedgerSyncError && err.code === 'ERR_SYNC_BAD_OPTIONS')
    assert.throws(() => { sync.start({ intervalMs: 0 }) }, (err: unknown) => err instanceof LedgerSyncError && err.code === 'ERR_SYNC_BAD_OPTIONS')
    assert.equal(sync.handle(new Uint8Array(32), 'edge-net/tasks/1', new Uint8Array(1)), false, 'other topics are not its own')
    await sync.close()
    assert.ok(LEDGER_SYNC_ERROR_CODES.length === new Set(LEDGER_SYNC_ERROR_CODES).size)
  })

  it('batches announcements into one gossip message', T, async () => {
    const ids = await identities(2)
    const net = new MemoryNetwork({ seed: seed + 9 })
    const a = makeNode(net, ids[0] as Identity, config(ids), 0, { batchMs: 20 })
    const b = makeNode(net, ids[1] as Identity, config(ids), 1)
    const events = []
    for (let i = 0; i < 5; i++) events.push(await a.account.transfer((ids[1] as Identity).publicKey, credits(1)))
    // Announced one by one, synchronously, so the batch timer cannot fire in between.
    for (const e of events) a.sync.announce(e.id)
    assert.equal(a.sync.stats.published, 0, 'held for batchMs')
    await converge([a, b], 5, 100, 5)
    assert.equal(a.sync.stats.published, 1, at)
  })
})

describe('ledger sync wire', () => {
  const bytes = (max: number) => fc.uint8Array({ minLength: 1, maxLength: max })
  const frame: fc.Arbitrary<DirectFrame> = fc.oneof(
    fc.record({ kind: fc.constant('sync' as const), session: fc.nat({ max: 0xffffffff }), initiator: fc.boolean(), step: fc.nat({ max: 300 }), message: bytes(200) }),
    fc.record({ kind: fc.constant('abort' as const), session: fc.nat({ max: 0xffffffff }), initiator: fc.boolean(), reason: fc.string({ maxLength: 64 }) }),
    fc.integer({ min: 1, max: 8 }).chain(n => fc.uint8Array({ minLength: 32 * n, maxLength: 32 * n })).map(ids => ({ kind: 'want' as const, ids })),
    fc.array(bytes(300), { minLength: 1, maxLength: 6 }).map(events => ({ kind: 'events' as const, events }))
  )

  it('round-trips every direct frame and gossip list', () => {
    fc.assert(fc.property(frame, f => { assert.deepEqual(decodeDirect(encodeDirect(f)), { ...f }) }), { seed, numRuns: 300 })
    fc.assert(fc.property(fc.array(bytes(300), { minLength: 1, maxLength: 6 }), list => { assert.deepEqual(decodeGossip(encodeGossip(list)), list) }), { seed, numRuns: 200 })
  })

  it('decoding mutated bytes either fails typed or yields a well-formed frame', () => {
    fc.assert(fc.property(frame, fc.nat(), fc.nat({ max: 255 }), (f, pos, value) => {
      const wire = encodeDirect(f).slice()
      wire[pos % wire.length] = value
      try {
        const back = decodeDirect(wire)
        assert.deepEqual(decodeDirect(encodeDirect(back)), back)
      } catch (err) {
        assert.ok(err instanceof LedgerSyncError && (err.code === 'ERR_SYNC_MALFORMED' || err.code === 'ERR_SYNC_OVERSIZED'), `${String(err)} ${at}`)
      }
    }), { seed, numRuns: 1000 })
  })

  it('chunks events under the cap, in order', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 65536 }), { maxLength: 40 }), fc.integer({ min: MIN_MESSAGE_BYTES, max: 400_000 }), (sizes, cap) => {
      const events = sizes.map((n, i) => new Uint8Array(n).fill(i % 256))
      const groups = chunkEvents(events, cap)
      assert.deepEqual(groups.flat(), events)
      for (const g of groups) assert.ok(encodeGossip(g).length <= cap, `a group exceeds ${cap} ${at}`)
    }), { seed, numRuns: 100 })
  })

  it('has stable topics and a stable encoding', () => {
    assert.equal(LEDGER_TOPIC, 'edge-net/ledger/1')
    assert.equal(LEDGER_SYNC_TOPIC, 'edge-net/ledger-sync/1')
    // [1, [h'07']]: a known answer, so the format cannot drift unnoticed.
    assert.equal(toHex(encodeGossip([new Uint8Array([7])])), '8201814107')
  })
})
