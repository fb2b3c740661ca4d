import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { check, seed } from '../../helpers/property.ts'
import { encode } from 'cborg'
import { MerkleSet, ID_BYTES, prefixOf } from '../../../src/core/ledger/merkle.ts'
import {
  SyncSession, SyncError, reconcileLocal, encodeSyncMessage, decodeSyncMessage, validateSyncMessage,
  MAX_SYNC_MESSAGE_BYTES, SYNC_ERROR_CODES
} from '../../../src/core/ledger/sync.ts'
import type { SyncMessage, SyncOptions } from '../../../src/core/ledger/sync.ts'
import { toHex } from '../../../src/core/bytes.ts'


/** A seeded id source (mulberry32); `shared` makes some ids share leading bytes, like ground ids. */
function idSource (rngSeed: number, shared = 0): () => Uint8Array {
  let a = rngSeed >>> 0
  const next = (): number => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  return () => {
    const id = new Uint8Array(ID_BYTES)
    for (let k = 0; k < ID_BYTES; k += 4) new DataView(id.buffer).setUint32(k, next())
    if (shared > 0 && next() % 4 === 0) id.fill(0x42, 0, shared)
    return id
  }
}

interface Pair { a: MerkleSet, b: MerkleSet, onlyA: Set<string>, onlyB: Set<string> }
function pair (rngSeed: number, common: number, onlyA: number, onlyB: number, shared = 0): Pair {
  const next = idSource(rngSeed, shared)
  const a = new MerkleSet()
  const b = new MerkleSet()
  for (let i = 0; i < common; i++) { const id = next(); a.add(id); b.add(id) }
  const sa = new Set<string>()
  const sb = new Set<string>()
  for (let i = 0; i < onlyA; i++) { const id = next(); a.add(id); sa.add(toHex(id)) }
  for (let i = 0; i < onlyB; i++) { const id = next(); b.add(id); sb.add(toHex(id)) }
  return { a, b, onlyA: sa, onlyB: sb }
}

const hexSet = (ids: Uint8Array[]): Set<string> => new Set(ids.map(toHex))

/** Run a session pair by hand, checking every message's encoded size. */
function run (p: Pair, options: SyncOptions = {}): { a: SyncSession, b: SyncSession, messages: number } {
  const a = new SyncSession(p.a, options)
  const b = new SyncSession(p.b, options)
  let message: SyncMessage | null = a.start()
  let to = b
  let messages = 0
  while (message !== null) {
    const wire = encodeSyncMessage(message)
    assert.ok(wire.length <= (options.maxMessageBytes ?? 256 * 1024), `message of ${wire.length} bytes`)
    messages++
    assert.ok(messages < 1000, 'the exchange ends')
    message = to.receive(decodeSyncMessage(wire))
    to = to === a ? b : a
  }
  return { a, b, messages }
}

function assertExact (p: Pair, a: SyncSession, b: SyncSession): void {
  assert.deepEqual(hexSet(a.missingOnOtherSide), p.onlyA)
  assert.deepEqual(hexSet(a.missingHere), p.onlyB)
  assert.deepEqual(hexSet(b.missingOnOtherSide), p.onlyB)
  assert.deepEqual(hexSet(b.missingHere), p.onlyA)
  assert.equal(a.done && b.done, true)
}

describe('ledger', () => {
  describe('sync', () => {
    it('finds exactly the set differences both ways (seeded: sizes 0..5000, differences 0..200)', () => {
      // noBias: fast-check would otherwise draw mostly tiny sizes.
      const sizes = fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.noBias(fc.integer({ min: 0, max: 5000 })), weight: 5 })
      const diffs = fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.noBias(fc.integer({ min: 0, max: 200 })), weight: 3 })
      check(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), sizes, diffs, diffs, fc.constantFrom(0, 0, 3, 9),
        fc.integer({ min: 1, max: 64 }), fc.constantFrom(36864, 256 * 1024),
        (rngSeed, common, onlyA, onlyB, shared, idListThreshold, maxMessageBytes) => {
          const p = pair(rngSeed, common, onlyA, onlyB, shared)
          const { a, b } = run(p, { idListThreshold, maxMessageBytes })
          assertExact(p, a, b)
          // Delivering what each side found makes the roots equal.
          for (const id of a.missingHere) p.a.add(id)
          for (const id of b.missingHere) p.b.add(id)
          assert.equal(p.a.rootHex(), p.b.rootHex())
          return true
        }), 60)
    })

    it('ends in one round trip when the sets are equal, empty or not', () => {
      for (const n of [0, 1, 300, 5000]) {
        const p = pair(n, n, 0, 0)
        const result = reconcileLocal(p.a, p.b)
        assert.equal(result.roundTrips, 1)
        assertExact(p, result.a, result.b)
      }
    })

    it('handles one side empty, either side, in few messages', () => {
      for (const [onlyA, onlyB] of [[5000, 0], [0, 5000], [1, 0], [0, 1]] as const) {
        const p = pair(onlyA + 2 * onlyB, 0, onlyA, onlyB)
        const { a, b, messages } = run(p)
        assertExact(p, a, b)
        assert.ok(messages <= 3, `${messages} messages`)
      }
    })

    it('splits a large difference over several messages within the byte budget', () => {
      for (const [common, onlyA, onlyB] of [[100, 4000, 3000], [0, 0, 5000], [0, 5000, 0]] as const) {
        const p = pair(11, common, onlyA, onlyB)
        const { a, b, messages } = run(p, { maxMessageBytes: 36864 })
        assertExact(p, a, b)
        assert.ok(messages >= 5, `${messages} messages`)
      }
    })

    it('descends only where the sets differ: ~log16 n round trips for a few differences', () => {
      const p = pair(12, 20000, 5, 5)
      const result = reconcileLocal(p.a, p.b)
      assertExact(p, result.a, result.b)
      assert.ok(result.roundTrips <= 4, `${result.roundTrips} round trips`)
      assert.ok(result.bytes < 20000, `${result.bytes} bytes`)
    })

    it('stays sound when ids are added during a session, and the next session is exact', () => {
      const p = pair(13, 3000, 40, 40)
      const a = new SyncSession(p.a)
      const b = new SyncSession(p.b)
      const next = idSource(99)
      let message: SyncMessage | null = a.start()
      let to = b
      while (message !== null) {
        const late = next()
        ;(to === a ? p.a : p.b).add(late)
        ;(to === a ? p.onlyA : p.onlyB).add(toHex(late))
        message = to.receive(decodeSyncMessage(encodeSyncMessage(message)))
        to = to === a ? b : a
      }
      for (const id of a.missingOnOtherSide) assert.ok(p.a.has(id))
      for (const id of b.missingOnOtherSide) assert.ok(p.b.has(id))
      const again = reconcileLocal(p.a, p.b)
      assertExact(p, again.a, again.b)
    })

    describe('messages', () => {
      const sample = (): SyncMessage => {
        const p = pair(21, 2000, 30, 30)
        const a = new SyncSession(p.a)
        const b = new SyncSession(p.b)
        const first = a.start()
        return b.receive(first) as SyncMessage
      }
      const isBad = (err: unknown): boolean => err instanceof SyncError && err.code === 'ERR_BAD_SYNC_MESSAGE' && err.name === 'SyncError'

      it('round-trip through encode/decode', () => {
        const m = sample()
        assert.deepEqual(decodeSyncMessage(encodeSyncMessage(m)), m)
        assert.deepEqual([...SYNC_ERROR_CODES], ['ERR_BAD_SYNC_MESSAGE', 'ERR_BAD_SYNC_OPTIONS'])
      })

      it('are refused with ERR_BAD_SYNC_MESSAGE when malformed', () => {
        const m = sample()
        const good = encodeSyncMessage(m)
        const wire = (...items: unknown[]): Uint8Array => encode(items)
        const e = new Uint8Array(0)
        const cases: Uint8Array[] = [
          new Uint8Array([0xff]),
          good.subarray(0, good.length - 1),
          new Uint8Array([...good, 0]),
          new Uint8Array(MAX_SYNC_MESSAGE_BYTES + 1),
          encode({ version: 1 }),
          wire(2, false, [], [], [], e, e),
          wire(1, 0, [], [], [], e, e),
          wire(1, false, [], [], [], new Uint8Array(31), e),
          wire(1, false, [[new Uint8Array([16]), new Uint8Array(16), 1]], [], [], e, e),
          wire(1, false, [[new Uint8Array(65), new Uint8Array(16), 1]], [], [], e, e),
          wire(1, false, [[e, new Uint8Array(15), 1]], [], [], e, e),
          wire(1, false, [[e, new Uint8Array(16), -1]], [], [], e, e),
          wire(1, false, [], [[e, 3, new Uint8Array(16), [1, 1]]], [], e, e),
          wire(1, false, [], [[e, 3, new Uint8Array(32), [1, 0]]], [], e, e),
          wire(1, false, [], [[new Uint8Array(64), 1, new Uint8Array(16), [1]]], [], e, e),
          wire(1, false, [], [[e, 0x10000, e, []]], [], e, e),
          wire(1, false, [], [], [[new Uint8Array([1]), new Uint8Array(32)]], e, e),
          wire(1, false, [], [], [[e, new Uint8Array(64)]], e, e),
          wire(1, false, [], [], [[e, new Uint8Array(33)]], e, e),
          wire(1, false, [], [], [], e),
          new Uint8Array([0x87, 0x1a, 0, 0, 0, 1, 0xf4, 0x80, 0x80, 0x80, 0x40, 0x40]), // non-minimal int
          new Uint8Array([0x9f, 0x01, 0xff]), // indefinite length
          new Uint8Array([0xc1, 0x01]), // a tag
          new Uint8Array([0x87, 0xf9, 0x3c, 0x00, 0xf4, 0x80, 0x80, 0x80, 0x40, 0x40]), // version as float 1.0
          new Uint8Array(Array(200000).fill(0x81)) // deep nesting
        ]
        for (const bytes of cases) assert.throws(() => decodeSyncMessage(bytes), isBad, toHex(bytes.subarray(0, 40)))
        assert.throws(() => encodeSyncMessage({ ...m, version: 9 }), isBad)
      })

      it('decode either refuses a mutated message with ERR_BAD_SYNC_MESSAGE or yields a valid one', () => {
        const good = encodeSyncMessage(sample())
        check(fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(good.length), (edits, cut) => {
          const bytes = good.slice(0, Math.max(1, cut))
          for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value
          try {
            validateSyncMessage(decodeSyncMessage(bytes))
          } catch (err) {
            if (!isBad(err)) throw err
          }
          return true
        }), 300)
      })

      it('change nothing in a session when refused, which then completes exactly', () => {
        const p = pair(22, 1500, 25, 25)
        const a = new SyncSession(p.a)
        const b = new SyncSession(p.b)
        const first = a.start()
        const broken: unknown[] = [
          { ...first, version: 2 },
          { ...first, want: new Uint8Array(5) },
          { ...first, nodes: [{ prefix: new Uint8Array(0), bitmap: 1, digests: new Uint8Array(16), counts: [0] }] },
          { ...first, idLists: [{ prefix: new Uint8Array(0), ids: new Uint8Array(64) }] }, // two equal ids
          null,
          'hello'
        ]
        for (const m of broken) assert.throws(() => b.receive(m as SyncMessage), isBad)
        assert.equal(b.missingHere.length + b.missingOnOtherSide.length, 0)
        let message: SyncMessage | null = b.receive(first)
        let to = a
        while (message !== null) {
          assert.throws(() => to.receive({ ...message, offer: new Uint8Array(1) } as SyncMessage), isBad)
          message = to.receive(message)
          to = to === a ? b : a
        }
        assertExact(p, a, b)
      })

      it('ignore a peer\'s claims about ids this side cannot check', () => {
        const p = pair(23, 100, 0, 0)
        const s = new SyncSession(p.a)
        const stranger = idSource(5)()
        const known = [...p.a.ids()][0] as Uint8Array
        const packed = (...ids: Uint8Array[]): Uint8Array => { const out = new Uint8Array(ids.length * ID_BYTES); ids.forEach((id, i) => out.set(id, i * ID_BYTES)); return out }
        const reply = s.receive({ version: 1, more: false, fingerprints: [], nodes: [], idLists: [], want: packed(stranger, known), offer: packed(known) })
        assert.equal(reply, null)
        assert.deepEqual(hexSet(s.missingOnOtherSide), new Set([toHex(known)]))
        assert.equal(s.missingHere.length, 0)
        assert.ok(prefixOf(known, 2).length === 2)
      })
    })

    it('refuses bad options with ERR_BAD_SYNC_OPTIONS', () => {
      const set = new MerkleSet()
      for (const options of [{ idListThreshold: 0 }, { idListThreshold: 1.5 }, { idListThreshold: 5000 }, { maxMessageBytes: 1000 }, { maxMessageBytes: MAX_SYNC_MESSAGE_BYTES + 1 }]) {
        assert.throws(() => new SyncSession(set, options), { name: 'SyncError', code: 'ERR_BAD_SYNC_OPTIONS' })
      }
      assert.throws(() => new SyncSession({} as MerkleSet), { code: 'ERR_BAD_SYNC_OPTIONS' })
    })
  })
})
