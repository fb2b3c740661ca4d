/**
 * The one compliance suite of the `Transport` port (src/ports.ts): every adapter (the in-process
 * MemoryTransport, libp2p) runs it, so the runtime sees the same semantics on each:
 *
 * - publish(topic, data) reaches every other peer exactly once, never the sender; publishing the
 *   same bytes again is delivered again (the runtime re-announces tasks verbatim);
 * - send(to, topic, data) reaches exactly `to`, once; an unknown `to` is dropped, never thrown;
 * - `from` is always the real sender's 32-byte public key, and `topic`/`data` arrive intact;
 * - data up to the stated cap arrives intact; above it the adapter either throws synchronously
 *   (`oversize: 'throws'`, nothing sent) or drops it (`'dropped'`); `'unlimited'` states there is
 *   no cap (MemoryTransport), and the suite then only checks the stated size arrives;
 * - close() stops delivery both ways (nothing reaches a closed peer's handler; its publish/send
 *   are no-ops that do not throw), leaves the others working, and is idempotent;
 * - `authenticated` is the fixture's stated value, and, if the fixture can attempt a forgery, an
 *   authenticated transport never reports the forged `from`.
 *
 * Negative checks ("nothing else arrived") cannot await an event, so they wait `quietMs` after the
 * expected deliveries (and a fence message sent after the one under test) have arrived.
 *
 * @example
 * transportCompliance('MemoryTransport', async (n) => {
 *   const net = new MemoryNetwork({ seed: 1 })
 *   const transports = keys(n).map(k => net.join(k))
 *   return { transports, cleanup: async () => {} }
 * }, { maxMessageBytes: 1 << 20, oversize: 'unlimited', authenticated: true })
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import type { Transport } from '../../src/ports.ts'
import { toHex } from '../../src/core/bytes.ts'

/** The topics the suite uses; a fixture whose transports need subscriptions subscribes to these. */
export const COMPLIANCE_TOPICS = ['compliance/gossip/1', 'compliance/other/1'] as const
const [GOSSIP, OTHER] = COMPLIANCE_TOPICS
const DIRECT = 'compliance/direct/1'

/** What a factory hands the suite: `count` transports, already connected to each other. */
export interface TransportFixture {
  transports: Transport[]
  /**
   * Try to deliver `data` to `transports[target]` while claiming to be `victim` (a key the attacker
   * does not hold), by whatever means the adapter's wire allows. Absent if the adapter has no wire.
   */
  impersonate?: (victim: Uint8Array, target: number, topic: string, data: Uint8Array) => Promise<void>
  /** Release what the fixture created. Called after the suite closed every transport. */
  cleanup: () => Promise<void>
}

/** What the adapter promises; the suite checks exactly this. */
export interface TransportComplianceOptions {
  /** Peers per fixture (default 3, at least 3). */
  peers?: number
  /** Data of this many bytes must arrive intact by publish and by send. */
  maxMessageBytes: number
  /** Above the cap: thrown synchronously by publish/send, silently dropped, or no cap at all. */
  oversize: 'throws' | 'dropped' | 'unlimited'
  /** For 'throws': whether the thrown value is the adapter's documented error. */
  isOversizeError?: (err: unknown) => boolean
  /** The value `authenticated` must have. */
  authenticated: boolean
  /** How long to wait for stray deliveries after the expected ones, ms (default 100). */
  quietMs?: number
  /** How long an expected delivery may take, ms (default 5000). */
  timeoutMs?: number
}

interface Received { from: string, topic: string, data: Uint8Array }

/** Everything one transport's handler saw, with a way to await a count. */
class Inbox {
  readonly messages: Received[] = []
  /** Rule breaks seen by the handler: reported by until(), since an adapter may swallow a throw. */
  readonly problems: string[] = []
  #waiters: Array<() => void> = []

  constructor (transport: Transport) {
    transport.onMessage((from, topic, data) => {
      if (!(from instanceof Uint8Array) || from.length !== 32) this.problems.push('`from` is not a 32-byte key')
      // Plain Uint8Arrays (house rule), never Node Buffers, whose slice() is a shared view.
      if (Object.getPrototypeOf(from) !== Uint8Array.prototype) this.problems.push('`from` is not a plain Uint8Array')
      if (Object.getPrototypeOf(data) !== Uint8Array.prototype) this.problems.push('`data` is not a plain Uint8Array')
      this.messages.push({ from: toHex(from), topic, data: new Uint8Array(data) })
      for (const w of this.#waiters) w()
    })
  }

  /** Resolve once `predicate` holds for the messages received, or fail after `timeoutMs`. */
  async until (predicate: (messages: readonly Received[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    assert.deepEqual(this.problems, [])
    if (predicate(this.messages)) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { this.#waiters = this.#waiters.filter(w => w !== check); reject(new Error(`timed out waiting for ${what}`)) }, timeoutMs)
      const check = (): void => {
        const problem = this.problems[0]
        if (problem === undefined && !predicate(this.messages)) return
        clearTimeout(timer)
        this.#waiters = this.#waiters.filter(w => w !== check)
        if (problem === undefined) resolve()
        else reject(new assert.AssertionError({ message: problem }))
      }
      this.#waiters.push(check)
    })
  }

  tagged (tag: string): Received[] { return this.messages.filter(m => tagOf(m.data) === tag) }
}

/** Payloads carry an ASCII tag then filler, so a test can tell its messages apart. */
function payload (tag: string, size = 0): Uint8Array {
  const head = new TextEncoder().encode(`${tag}|`)
  const out = new Uint8Array(Math.max(size, head.length))
  out.set(head.subarray(0, out.length))
  for (let i = head.length; i < out.length; i++) out[i] = (i * 31 + 7) & 0xff
  return out
}

function tagOf (data: Uint8Array): string {
  const bar = data.indexOf(0x7c)
  return bar < 0 ? '' : new TextDecoder().decode(data.subarray(0, bar))
}

const digest = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')
const quiet = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/**
 * Register the compliance tests of one `Transport` implementation.
 *
 * @example
 * transportCompliance('Libp2pTransport', libp2pFixture, { maxMessageBytes: 1 << 20, oversize: 'throws', authenticated: true })
 */
export function transportCompliance (
  name: string,
  factory: (count: number) => Promise<TransportFixture>,
  options: TransportComplianceOptions
): void {
  const peers = options.peers ?? 3
  const quietMs = options.quietMs ?? 100
  const timeoutMs = options.timeoutMs ?? 5000
  assert.ok(peers >= 3, 'the suite needs at least 3 peers to tell "the target" from "everyone"')

  /** Run `fn` on a fresh fixture; close every transport and clean up, pass or fail. */
  async function withPeers (fn: (ts: Transport[], inboxes: Inbox[], fixture: TransportFixture) => Promise<void>): Promise<void> {
    const fixture = await factory(peers)
    try {
      assert.equal(fixture.transports.length, peers)
      const inboxes = fixture.transports.map(t => new Inbox(t))
      await fn(fixture.transports, inboxes, fixture)
      for (const inbox of inboxes) assert.deepEqual(inbox.problems, [])
    } finally {
      for (const t of fixture.transports) await t.close().catch(() => {})
      await fixture.cleanup()
    }
  }

  describe(`Transport compliance: ${name}`, () => {
    it('names each peer by a distinct 32-byte key and states whether `from` is proven', () => withPeers(async (ts) => {
      for (const t of ts) assert.ok(t.self instanceof Uint8Array && t.self.length === 32)
      assert.equal(new Set(ts.map(t => toHex(t.self))).size, ts.length)
      for (const t of ts) assert.equal(t.authenticated, options.authenticated)
    }))

    describe('publish()', () => {
      it('reaches every other peer exactly once, never the sender, with the sender as `from`', () => withPeers(async (ts, inboxes) => {
        ts.forEach((t, i) => { t.publish(GOSSIP, payload(`pub-${i}`, 64)) })
        for (const [j, inbox] of inboxes.entries()) {
          await inbox.until(ms => ms.length >= ts.length - 1, timeoutMs, `peer ${j} to receive every other publication`)
        }
        await quiet(quietMs)
        for (const [j, inbox] of inboxes.entries()) {
          const got = inbox.messages.map(m => `${m.from}:${m.topic}:${toHex(m.data)}`).sort()
          const want = ts.flatMap((t, i) => i === j ? [] : [`${toHex(t.self)}:${GOSSIP}:${toHex(payload(`pub-${i}`, 64))}`]).sort()
          assert.deepEqual(got, want, `peer ${j} got each other peer's publication once, and not its own`)
        }
      }))

      it('reports the topic published on, and delivers the same bytes published twice twice', () => withPeers(async (ts, inboxes) => {
        const data = payload('again', 32)
        ts[0]?.publish(OTHER, data)
        await Promise.all(inboxes.slice(1).map(async inbox => { await inbox.until(ms => ms.length >= 1, timeoutMs, 'the first publication') }))
        ts[0]?.publish(OTHER, data)
        await Promise.all(inboxes.slice(1).map(async inbox => { await inbox.until(ms => ms.length >= 2, timeoutMs, 'the republication') }))
        await quiet(quietMs)
        assert.equal(inboxes[0]?.messages.length, 0)
        for (const inbox of inboxes.slice(1)) {
          assert.equal(inbox.messages.length, 2)
          for (const m of inbox.messages) {
            assert.equal(m.topic, OTHER)
            assert.deepEqual(m.data, data)
            assert.equal(m.from, toHex(ts[0]?.self as Uint8Array))
          }
        }
      }))
    })

    describe('send()', () => {
      it('reaches exactly the target, once, with the sender as `from`', () => withPeers(async (ts, inboxes) => {
        const [a, b] = ts as [Transport, Transport]
        a.send(b.self, DIRECT, payload('a-to-b', 100))
        await inboxes[1]?.until(ms => ms.length >= 1, timeoutMs, 'the direct message')
        await quiet(quietMs)
        assert.deepEqual(inboxes[1]?.messages, [{ from: toHex(a.self), topic: DIRECT, data: payload('a-to-b', 100) }])
        inboxes.forEach((inbox, j) => { if (j !== 1) assert.equal(inbox.messages.length, 0, `peer ${j} is not the target`) })
      }))

      it('carries every ordered pair of peers', () => withPeers(async (ts, inboxes) => {
        ts.forEach((t, i) => { ts.forEach((u, j) => { if (i !== j) t.send(u.self, DIRECT, payload(`d-${i}-${j}`)) }) })
        for (const [j, inbox] of inboxes.entries()) await inbox.until(ms => ms.length >= ts.length - 1, timeoutMs, `peer ${j}'s direct messages`)
        await quiet(quietMs)
        for (const [j, inbox] of inboxes.entries()) {
          const got = inbox.messages.map(m => `${m.from}:${tagOf(m.data)}`).sort()
          const want = ts.flatMap((t, i) => i === j ? [] : [`${toHex(t.self)}:d-${i}-${j}`]).sort()
          assert.deepEqual(got, want)
        }
      }))

      it('drops a message to an unknown peer without throwing', () => withPeers(async (ts, inboxes) => {
        const [a, b] = ts as [Transport, Transport]
        const stranger = new Uint8Array(createHash('sha256').update('nobody').digest())
        a.send(stranger, DIRECT, payload('lost'))
        a.send(b.self, DIRECT, payload('fence'))
        await inboxes[1]?.until(ms => ms.length >= 1, timeoutMs, 'the fence')
        await quiet(quietMs)
        for (const inbox of inboxes) assert.equal(inbox.tagged('lost').length, 0)
      }))
    })

    describe('message size', () => {
      const sizes = [...new Set([0, 1, Math.min(4096, options.maxMessageBytes), options.maxMessageBytes])]
      it(`delivers data of ${sizes.join(', ')} bytes intact by send and by publish`, () => withPeers(async (ts, inboxes) => {
        const [a, b] = ts as [Transport, Transport]
        // Size 0 carries no tag: it is matched by length instead.
        const data = sizes.map((size, i) => size === 0 ? new Uint8Array(0) : payload(`s${i}`, size))
        for (const d of data) a.send(b.self, DIRECT, d)
        for (const d of data) a.publish(GOSSIP, d)
        for (const inbox of inboxes.slice(1)) {
          await inbox.until(ms => ms.length >= (inbox === inboxes[1] ? 2 : 1) * data.length, timeoutMs, 'every size')
        }
        await quiet(quietMs)
        const want = (topic: string): string[] => data.map(d => `${topic}:${digest(d)}`).sort()
        const got = (inbox: Inbox | undefined, topic: string): string[] =>
          (inbox?.messages ?? []).filter(m => m.topic === topic).map(m => `${topic}:${digest(m.data)}`).sort()
        assert.deepEqual(got(inboxes[1], DIRECT), want(DIRECT))
        for (const inbox of inboxes.slice(1)) assert.deepEqual(got(inbox, GOSSIP), want(GOSSIP))
        assert.equal(inboxes[0]?.messages.length, 0)
      }))

      if (options.oversize === 'unlimited') {
        it('refuses or drops data above the cap', { skip: 'the adapter states it has no cap' }, () => {})
      } else {
        it(`${options.oversize === 'throws' ? 'refuses (throws)' : 'drops'} data of ${options.maxMessageBytes + 1} bytes`, () => withPeers(async (ts, inboxes) => {
          const [a, b] = ts as [Transport, Transport]
          const big = payload('too-big', options.maxMessageBytes + 1)
          if (options.oversize === 'throws') {
            const check = options.isOversizeError ?? (() => true)
            assert.throws(() => { a.send(b.self, DIRECT, big) }, check)
            assert.throws(() => { a.publish(GOSSIP, big) }, check)
          } else {
            a.send(b.self, DIRECT, big)
            a.publish(GOSSIP, big)
          }
          a.send(b.self, DIRECT, payload('fence'))
          a.publish(GOSSIP, payload('fence'))
          for (const inbox of inboxes.slice(1)) await inbox.until(ms => ms.some(m => m.topic === GOSSIP && tagOf(m.data) === 'fence'), timeoutMs, 'the gossip fence')
          await inboxes[1]?.until(ms => ms.some(m => m.topic === DIRECT && tagOf(m.data) === 'fence'), timeoutMs, 'the direct fence')
          await quiet(quietMs)
          for (const inbox of inboxes) assert.equal(inbox.tagged('too-big').length, 0, 'an oversized message never arrives')
        }))
      }
    })

    describe('close()', () => {
      it('stops delivery both ways, leaves the others working, and is idempotent', () => withPeers(async (ts, inboxes) => {
        const [a, b, c] = ts as [Transport, Transport, Transport]
        await c.close()
        await c.close()
        a.send(c.self, DIRECT, payload('to-closed'))
        a.publish(GOSSIP, payload('gossip-after-close'))
        assert.doesNotThrow(() => { c.send(a.self, DIRECT, payload('from-closed')) })
        assert.doesNotThrow(() => { c.publish(GOSSIP, payload('from-closed')) })
        a.send(b.self, DIRECT, payload('fence'))
        await inboxes[1]?.until(ms => ms.some(m => tagOf(m.data) === 'fence') && ms.some(m => tagOf(m.data) === 'gossip-after-close'), timeoutMs, 'the survivors to keep talking')
        await quiet(quietMs)
        assert.equal(inboxes[2]?.messages.length, 0, 'a closed transport receives nothing')
        for (const inbox of inboxes) assert.equal(inbox.tagged('from-closed').length, 0, 'a closed transport sends nothing')
        await Promise.all([c.close(), c.close()])
      }))
    })

    describe('onMessage()', () => {
      it('replaces the previous handler (one handler per transport)', () => withPeers(async (ts, inboxes) => {
        const [a, b] = ts as [Transport, Transport]
        const second = new Inbox(b)
        a.send(b.self, DIRECT, payload('which'))
        await second.until(ms => ms.length >= 1, timeoutMs, 'the new handler')
        await quiet(quietMs)
        assert.equal(inboxes[1]?.messages.length, 0, 'the old handler is no longer called')
      }))
    })

    describe('authenticated', () => {
      it(options.authenticated ? 'never reports a forged `from`' : 'is false: protocols sign every direct message', () => withPeers(async (ts, inboxes, fixture) => {
        const [a, b] = ts as [Transport, Transport]
        if (fixture.impersonate === undefined) {
          // No wire to forge on; every delivery in this suite checked `from` against the sender.
          assert.equal(a.authenticated, options.authenticated)
          return
        }
        await fixture.impersonate(a.self, 1, DIRECT, payload('forged'))
        a.send(b.self, DIRECT, payload('fence'))
        await inboxes[1]?.until(ms => ms.some(m => tagOf(m.data) === 'fence'), timeoutMs, 'the fence')
        await quiet(quietMs)
        const forged = inboxes[1]?.tagged('forged') ?? []
        if (options.authenticated) {
          for (const m of forged) assert.notEqual(m.from, toHex(a.self), 'a forged message must not carry the victim as `from`')
        }
      }))
    })
  })
}
