/**
 * The storage domain's shared rules (src/core/storage): the error class and codes, and the batch
 * planning the memory and IndexedDB stores use. The stores' behaviour as a whole is the
 * compliance suite's job (test/compliance/event-store.ts).
 */

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { EdgeNetError } from '../../../src/core/errors.ts'
import {
  StoreError, STORE_ERROR_CODES, throwIfAborted, assertEventId, assertStoredEvents, planAppend, EVENT_ID_LENGTH
} from '../../../src/core/storage/index.ts'

const id = (n: number): Uint8Array => new Uint8Array(EVENT_ID_LENGTH).fill(n)
const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs)

function code (fn: () => unknown): string | undefined {
  try { fn() } catch (err) { return err instanceof StoreError ? err.code : 'not a StoreError' }
  return undefined
}

describe('storage', () => {
  describe('StoreError', () => {
    it('is an EdgeNetError named StoreError with a stable code', () => {
      const err = new StoreError('ERR_STORE_CLOSED', 'closed')
      assert.ok(err instanceof EdgeNetError)
      assert.equal(err.name, 'StoreError')
      assert.equal(err.code, 'ERR_STORE_CLOSED')
    })

    it('lists distinct ERR_ codes', () => {
      assert.equal(new Set(STORE_ERROR_CODES).size, STORE_ERROR_CODES.length)
      for (const c of STORE_ERROR_CODES) assert.match(c, /^ERR_[A-Z_]+$/)
    })
  })

  describe('throwIfAborted()', () => {
    it('throws ERR_STORE_ABORTED with the reason as cause, only once fired', () => {
      throwIfAborted(undefined)
      const controller = new AbortController()
      throwIfAborted(controller.signal)
      const reason = new Error('why')
      controller.abort(reason)
      assert.throws(() => throwIfAborted(controller.signal),
        (err: unknown) => err instanceof StoreError && err.code === 'ERR_STORE_ABORTED' && err.cause === reason)
    })
  })

  describe('assertEventId() and assertStoredEvents()', () => {
    it('accept 32-byte ids and non-empty bytes, including subarray views', () => {
      assertEventId(new Uint8Array(40).subarray(4, 36))
      assertStoredEvents([{ id: id(1), bytes: bytes(1) }])
      assertStoredEvents([])
    })

    it('refuse everything else with ERR_BAD_STORED_EVENT', () => {
      for (const bad of [undefined, null, 'x'.repeat(32), id(1).subarray(1), new Uint8Array(33), new Uint16Array(16)]) {
        assert.equal(code(() => assertEventId(bad)), 'ERR_BAD_STORED_EVENT')
      }
      for (const bad of [undefined, {}, [null], [{ id: id(1) }], [{ id: id(1), bytes: bytes() }], [{ id: id(1), bytes: [1] }]]) {
        assert.equal(code(() => assertStoredEvents(bad)), 'ERR_BAD_STORED_EVENT')
      }
    })
  })

  describe('planAppend()', () => {
    const stored = new Map([[1, bytes(1)]])
    const lookup = (x: Uint8Array): Uint8Array | undefined => stored.get(x[0] as number)

    it('keeps the first occurrence of each new id, in batch order', () => {
      const batch = [
        { id: id(3), bytes: bytes(3) }, { id: id(1), bytes: bytes(1) },
        { id: id(2), bytes: bytes(2) }, { id: id(3), bytes: bytes(3) }
      ]
      assert.deepEqual(planAppend(batch, lookup).map((e) => e.id[0]), [3, 2])
    })

    it('refuses a stored id with other bytes, and a repeated id with other bytes', () => {
      assert.equal(code(() => planAppend([{ id: id(2), bytes: bytes(2) }, { id: id(1), bytes: bytes(9) }], lookup)), 'ERR_STORE_CONFLICT')
      assert.equal(code(() => planAppend([{ id: id(2), bytes: bytes(2) }, { id: id(2), bytes: bytes(2, 0) }], lookup)), 'ERR_STORE_CONFLICT')
    })
  })
})
