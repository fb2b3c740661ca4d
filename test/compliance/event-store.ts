/**
 * The one compliance suite of the `EventStore` port (src/ports.ts): every adapter (memory, SQLite,
 * IndexedDB) runs it, so they cannot drift apart on order, idempotence, atomicity, closed-store
 * behaviour, aborts or the input rules of src/core/storage/validate.ts.
 *
 * @example
 * eventStoreCompliance('MemoryEventStore', async () => ({
 *   store: new MemoryEventStore(), cleanup: async () => {}
 * }))
 */

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import type { EventStore, StoredEvent } from '../../src/ports.ts'
import { toHex } from '../../src/core/bytes.ts'
import { StoreError } from '../../src/core/storage/index.ts'
import type { StoreErrorCode } from '../../src/core/storage/index.ts'

/** What a factory hands the suite: a fresh empty store, how to reopen its data, how to clean up. */
export interface EventStoreFixture {
  store: EventStore
  /** Open the same data again (called after the suite closed `store`); absent for volatile stores. */
  reopen?: () => Promise<EventStore>
  /** Remove whatever the fixture created (temp dirs). Called after every store was closed. */
  cleanup: () => Promise<void>
}

/** Options of the suite. */
export interface EventStoreComplianceOptions {
  /** Runs of the model-based property (default 40; each run builds a fresh store). */
  numRuns?: number
}

/** An event whose id is the SHA-256 of its bytes, as the ledger makes them. */
export function makeEvent (label: string, size = 48): StoredEvent {
  const bytes = new Uint8Array(size)
  const seed = createHash('sha256').update(label).digest()
  for (let i = 0; i < size; i++) bytes[i] = seed[i % 32] as number ^ (i >>> 5)
  return { id: new Uint8Array(createHash('sha256').update(bytes).digest()), bytes }
}

function makeEvents (prefix: string, count: number): StoredEvent[] {
  return Array.from({ length: count }, (_, i) => makeEvent(`${prefix}/${i}`))
}

/** The store's content as comparable strings, in scan order. */
async function snapshot (store: EventStore): Promise<string[]> {
  const out: string[] = []
  for await (const { id, bytes } of store.scan()) out.push(`${toHex(id)}:${toHex(bytes)}`)
  return out
}

function expected (events: readonly StoredEvent[]): string[] {
  return events.map(({ id, bytes }) => `${toHex(id)}:${toHex(bytes)}`)
}

async function rejectsWith (promise: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`)
    assert.equal(err.code, code)
    assert.equal(err.name, 'StoreError')
    return true
  })
}

async function drain (iterable: AsyncIterable<StoredEvent>): Promise<number> {
  let n = 0
  for await (const _ of iterable) n++
  return n
}

/**
 * Register the compliance tests of one `EventStore` implementation.
 *
 * @example
 * eventStoreCompliance('SqliteEventStore', sqliteFixture)
 */
export function eventStoreCompliance (
  name: string,
  factory: () => Promise<EventStoreFixture>,
  options: EventStoreComplianceOptions = {}
): void {
  /** Run `fn` on a fresh fixture; close every store it opened and clean up, pass or fail. */
  async function withStore (fn: (store: EventStore, reopen: (() => Promise<EventStore>) | undefined) => Promise<void>): Promise<void> {
    const fixture = await factory()
    const opened: EventStore[] = [fixture.store]
    const reopen = fixture.reopen === undefined
      ? undefined
      : async () => { const s = await (fixture.reopen as () => Promise<EventStore>)(); opened.push(s); return s }
    try {
      await fn(fixture.store, reopen)
    } finally {
      for (const s of opened) await s.close().catch(() => {})
      await fixture.cleanup()
    }
  }

  describe(`EventStore compliance: ${name}`, () => {
    describe('append(), get(), has(), count(), scan()', () => {
      it('starts empty', () => withStore(async (store) => {
        const { id } = makeEvent('absent')
        assert.equal(await store.count(), 0)
        assert.deepEqual(await snapshot(store), [])
        assert.equal(await store.has(id), false)
        assert.equal(await store.get(id), undefined)
      }))

      it('keeps batches in append order and answers get/has/count', () => withStore(async (store) => {
        const a = makeEvents('a', 3)
        const b = makeEvents('b', 1)
        const c = makeEvents('c', 5)
        await store.append(a)
        await store.append(b)
        await store.append(c)
        const all = [...a, ...b, ...c]
        assert.deepEqual(await snapshot(store), expected(all))
        assert.equal(await store.count(), 9)
        for (const { id, bytes } of all) {
          assert.equal(await store.has(id), true)
          assert.deepEqual(await store.get(id), bytes)
        }
        assert.equal(await store.has(makeEvent('other').id), false)
      }))

      it('treats an empty batch as a no-op', () => withStore(async (store) => {
        await store.append([])
        assert.equal(await store.count(), 0)
      }))

      it('skips ids already stored, so re-appending is idempotent', () => withStore(async (store) => {
        const a = makeEvents('a', 4)
        const b = makeEvents('b', 2)
        await store.append(a)
        await store.append(a)
        await store.append([a[2] as StoredEvent, ...b, a[0] as StoredEvent, b[1] as StoredEvent])
        assert.deepEqual(await snapshot(store), expected([...a, ...b]))
        assert.equal(await store.count(), 6)
      }))

      it('stores an id repeated within one batch with the same bytes once', () => withStore(async (store) => {
        const [x, y] = makeEvents('x', 2) as [StoredEvent, StoredEvent]
        await store.append([x, y, { id: x.id.slice(), bytes: x.bytes.slice() }])
        assert.deepEqual(await snapshot(store), expected([x, y]))
      }))

      it('serialises concurrent appends without losing any', () => withStore(async (store) => {
        const batches = Array.from({ length: 20 }, (_, i) => makeEvents(`p${i}`, 5))
        await Promise.all(batches.map((batch) => store.append(batch)))
        assert.equal(await store.count(), 100)
        const seen = new Set(await snapshot(store))
        for (const e of expected(batches.flat())) assert.ok(seen.has(e))
      }))

      it('takes a 10 000-event batch and a 10 000-event batch that half overlaps it', () => withStore(async (store) => {
        const first = makeEvents('big', 10_000)
        const second = [...first.slice(5_000), ...makeEvents('big2', 5_000)]
        await store.append(first)
        assert.equal(await store.count(), 10_000)
        await store.append(second)
        assert.equal(await store.count(), 15_000)
        assert.deepEqual(await snapshot(store), expected([...first, ...second.slice(5_000)]))
      }))
    })

    describe('bytes are copied', () => {
      it('is not changed by mutating what was appended or what was read', () => withStore(async (store) => {
        const e = makeEvent('copy')
        const original = expected([e])
        const id = e.id.slice()
        await store.append([e])
        e.bytes.fill(0)
        e.id.fill(0)
        const got = await store.get(id)
        assert.ok(got !== undefined)
        got.fill(7)
        for await (const scanned of store.scan()) { scanned.id.fill(1); scanned.bytes.fill(1) }
        assert.deepEqual(await snapshot(store), original)
      }))

      it('stores exactly the viewed bytes of a subarray', () => withStore(async (store) => {
        const e = makeEvent('view')
        const backing = new Uint8Array(200).fill(0xee)
        backing.set(e.id, 10)
        backing.set(e.bytes, 100)
        await store.append([{ id: backing.subarray(10, 42), bytes: backing.subarray(100, 100 + e.bytes.length) }])
        assert.deepEqual(await snapshot(store), expected([e]))
      }))
    })

    describe('bad input', () => {
      const good = makeEvent('good')
      const cases: Array<[string, unknown]> = [
        ['an id of 31 bytes', { id: new Uint8Array(31), bytes: new Uint8Array([1]) }],
        ['an id of 33 bytes', { id: new Uint8Array(33), bytes: new Uint8Array([1]) }],
        ['an id that is a number array', { id: Array.from({ length: 32 }, () => 0), bytes: new Uint8Array([1]) }],
        ['empty bytes', { id: makeEvent('e').id, bytes: new Uint8Array(0) }],
        ['bytes that are a string', { id: makeEvent('s').id, bytes: 'abc' }],
        ['a missing id', { bytes: new Uint8Array([1]) }],
        ['a null entry', null]
      ]
      for (const [label, entry] of cases) {
        it(`refuses a batch holding ${label} whole, changing nothing`, () => withStore(async (store) => {
          await store.append([good])
          const before = await snapshot(store)
          const fresh = makeEvents('fresh', 3)
          await rejectsWith(store.append([...fresh, entry] as StoredEvent[]), 'ERR_BAD_STORED_EVENT')
          await rejectsWith(store.append([entry, ...fresh] as StoredEvent[]), 'ERR_BAD_STORED_EVENT')
          assert.deepEqual(await snapshot(store), before)
          assert.equal(await store.count(), 1)
          assert.equal(await store.has((fresh[0] as StoredEvent).id), false)
        }))
      }

      it('refuses a batch that is not an array', () => withStore(async (store) => {
        await rejectsWith(store.append(good as unknown as StoredEvent[]), 'ERR_BAD_STORED_EVENT')
        assert.equal(await store.count(), 0)
      }))

      it('refuses a malformed id in has() and get()', () => withStore(async (store) => {
        await rejectsWith(store.has(new Uint8Array(31)), 'ERR_BAD_STORED_EVENT')
        await rejectsWith(store.get('x'.repeat(32) as unknown as Uint8Array), 'ERR_BAD_STORED_EVENT')
      }))

      it('refuses a stored id with different bytes (ERR_STORE_CONFLICT), changing nothing', () => withStore(async (store) => {
        const stored = makeEvents('stored', 2)
        await store.append(stored)
        const before = await snapshot(store)
        const forged = { id: (stored[1] as StoredEvent).id, bytes: new Uint8Array([1, 2, 3]) }
        // The conflict is last, after new events, so an adapter must undo work already done.
        await rejectsWith(store.append([...makeEvents('new', 50), forged]), 'ERR_STORE_CONFLICT')
        assert.deepEqual(await snapshot(store), before)
        assert.deepEqual(await store.get(forged.id), (stored[1] as StoredEvent).bytes)
      }))

      it('refuses an id repeated within one batch with different bytes, changing nothing', () => withStore(async (store) => {
        const [x] = makeEvents('x', 1) as [StoredEvent]
        await rejectsWith(store.append([x, ...makeEvents('y', 3), { id: x.id, bytes: new Uint8Array([9]) }]), 'ERR_STORE_CONFLICT')
        assert.equal(await store.count(), 0)
        assert.deepEqual(await snapshot(store), [])
      }))
    })

    describe('close()', () => {
      it('makes every later call fail with ERR_STORE_CLOSED and is idempotent', () => withStore(async (store) => {
        const e = makeEvent('closed')
        await store.append([e])
        await store.close()
        await store.close()
        await rejectsWith(store.append([makeEvent('late')]), 'ERR_STORE_CLOSED')
        await rejectsWith(store.append([]), 'ERR_STORE_CLOSED')
        await rejectsWith(store.has(e.id), 'ERR_STORE_CLOSED')
        await rejectsWith(store.get(e.id), 'ERR_STORE_CLOSED')
        await rejectsWith(store.count(), 'ERR_STORE_CLOSED')
        await rejectsWith(drain(store.scan()), 'ERR_STORE_CLOSED')
      }))

      it('ends a scan in progress with ERR_STORE_CLOSED', () => withStore(async (store) => {
        await store.append(makeEvents('s', 2000))
        let seen = 0
        await rejectsWith((async () => {
          for await (const _ of store.scan()) { if (++seen === 10) await store.close() }
        })(), 'ERR_STORE_CLOSED')
        assert.equal(seen, 10)
      }))
    })

    describe('abort signals', () => {
      it('refuses an append whose signal has fired, changing nothing', () => withStore(async (store) => {
        const reason = new Error('stop')
        await rejectsWith(store.append(makeEvents('a', 3), { signal: AbortSignal.abort(reason) }), 'ERR_STORE_ABORTED')
        assert.equal(await store.count(), 0)
        const err = await store.append([makeEvent('z')], { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e)
        assert.equal((err as StoreError).cause, reason)
      }))

      it('stops a scan when its signal fires, before the end', () => withStore(async (store) => {
        await store.append(makeEvents('a', 3000))
        await rejectsWith(drain(store.scan({ signal: AbortSignal.abort() })), 'ERR_STORE_ABORTED')
        const controller = new AbortController()
        let seen = 0
        await rejectsWith((async () => {
          for await (const _ of store.scan({ signal: controller.signal })) { if (++seen === 5) controller.abort() }
        })(), 'ERR_STORE_ABORTED')
        assert.equal(seen, 5)
        assert.equal(await store.count(), 3000)
      }))
    })

    describe('scan() while the store changes', () => {
      it('yields everything stored when it began, in order, then at most the newer events in order', () => withStore(async (store) => {
        const before = makeEvents('before', 1500)
        const during = makeEvents('during', 1500)
        await store.append(before)
        const seen: StoredEvent[] = []
        let appended = false
        for await (const e of store.scan()) {
          seen.push(e)
          if (seen.length === 700 && !appended) { appended = true; await store.append(during) }
        }
        const got = expected(seen)
        assert.deepEqual(got.slice(0, 1500), expected(before))
        assert.deepEqual(got.slice(1500), expected(during).slice(0, got.length - 1500))
      }))

      it('can be left early and run side by side with another scan', () => withStore(async (store) => {
        const events = makeEvents('e', 1200)
        await store.append(events)
        for await (const _ of store.scan()) break
        const a = store.scan()[Symbol.asyncIterator]()
        const b = store.scan()[Symbol.asyncIterator]()
        const interleaved: string[] = []
        for (;;) {
          const [x, y] = await Promise.all([a.next(), b.next()])
          if (x.done === true || y.done === true) { assert.equal(x.done, y.done); break }
          assert.deepEqual(x.value, y.value)
          interleaved.push(...expected([x.value]))
        }
        assert.deepEqual(interleaved, expected(events))
        assert.equal(await store.count(), 1200)
      }))
    })

    describe('persistence', () => {
      it('keeps every event, in order, across close and reopen', (t) => withStore(async (store, reopen) => {
        if (reopen === undefined) { t.skip('a volatile store has nothing to keep'); return }
        const a = makeEvents('a', 300)
        await store.append(a)
        await store.append(a.slice(0, 10))
        await store.close()
        const again = await reopen()
        assert.equal(await again.count(), 300)
        assert.deepEqual(await snapshot(again), expected(a))
        const b = makeEvents('b', 5)
        await again.append([...b, a[0] as StoredEvent])
        await again.close()
        const third = await reopen()
        assert.deepEqual(await snapshot(third), expected([...a, ...b]))
        assert.deepEqual(await third.get((b[4] as StoredEvent).id), (b[4] as StoredEvent).bytes)
      }))
    })

    describe('model: any sequence of batches', () => {
      it('scans as the de-duplicated concatenation of the accepted batches', async () => {
        const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)
        const numRuns = options.numRuns ?? 40
        // Entries draw from a small pool so ids repeat; variant 1 is a forgery of the same id and
        // variant 2 a malformed entry, so refused batches are exercised too.
        const pool = makeEvents('pool', 12)
        const entry = fc.record({
          slot: fc.nat({ max: pool.length - 1 }),
          variant: fc.oneof({ weight: 20, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) })
        })
        const batches = fc.array(fc.array(entry, { maxLength: 8 }), { maxLength: 12 })
        const property = fc.asyncProperty(batches, async (plan) => withStore(async (store) => {
          const model: StoredEvent[] = []
          const modelBytes = new Map<string, string>()
          for (const spec of plan) {
            const batch = spec.map(({ slot, variant }) => {
              const e = pool[slot] as StoredEvent
              if (variant === 1) return { id: e.id, bytes: new Uint8Array([slot, 0xff]) }
              if (variant === 2) return { id: e.id.subarray(1), bytes: e.bytes }
              return e
            })
            // The rules of src/core/storage/validate.ts, restated: shape first, then conflicts
            // against the store and earlier entries of the batch, then first occurrence wins.
            const fresh = new Map<string, StoredEvent>()
            let conflict = false
            for (const e of batch) {
              const key = toHex(e.id)
              const known = modelBytes.get(key) ?? (fresh.has(key) ? toHex((fresh.get(key) as StoredEvent).bytes) : undefined)
              if (known === undefined) fresh.set(key, e)
              else if (known !== toHex(e.bytes)) conflict = true
            }
            if (spec.some((s) => s.variant === 2)) {
              await rejectsWith(store.append(batch), 'ERR_BAD_STORED_EVENT')
            } else if (conflict) {
              await rejectsWith(store.append(batch), 'ERR_STORE_CONFLICT')
            } else {
              await store.append(batch)
              for (const [key, e] of fresh) { modelBytes.set(key, toHex(e.bytes)); model.push(e) }
            }
          }
          assert.deepEqual(await snapshot(store), expected(model))
          assert.equal(await store.count(), model.length)
        }))
        try {
          await fc.assert(property, { seed, numRuns })
        } catch (err) {
          throw new Error(`${name} model property failed; reproduce with SEED=${seed}`, { cause: err })
        }
      })
    })
  })
}
