/**
 * The rules every `EventStore` applies to its input, in one place so that the memory, SQLite and
 * IndexedDB adapters refuse exactly the same batches (the compliance suite checks that they do).
 *
 * The rules, and why:
 * - an id is a 32-byte `Uint8Array`: the SHA-256 digest of the event's bytes (ARCHITECTURE.md,
 *   "id = SHA-256 of the encoding"). The store does not recompute the digest: hashing belongs to
 *   the ledger codec, which has already done it, and the store stays a dumb byte keeper.
 * - bytes are a non-empty `Uint8Array`: no canonical event encodes to zero bytes.
 * - an id already stored, or repeated within the batch, with the SAME bytes is skipped (append is
 *   idempotent, so re-delivered gossip and retried batches are harmless).
 * - an id already stored, or repeated within the batch, with DIFFERENT bytes refuses the whole
 *   batch with `ERR_STORE_CONFLICT`: under SHA-256 two encodings cannot share an id, so the caller
 *   mislabelled an event or someone tampered with one; storing either silently would hide it.
 * - a batch with any bad entry is refused whole and changes nothing.
 */

import { toHex, toKey, equalBytes } from '../bytes.ts'
import { StoreError } from './errors.ts'

/** The length of an event id in bytes (a SHA-256 digest). @example EVENT_ID_LENGTH === 32 */
export const EVENT_ID_LENGTH = 32

/**
 * An event as a store receives it: the shape of `StoredEvent` in src/ports.ts, restated because
 * the core is compiled without src/ports.ts (which names Node/DOM's `AbortSignal`).
 *
 * @example
 * const event: StoredEventLike = { id: new Uint8Array(32), bytes: new Uint8Array([1]) }
 */
export interface StoredEventLike { readonly id: Uint8Array; readonly bytes: Uint8Array }

/**
 * Throw `ERR_BAD_STORED_EVENT` unless `id` is a 32-byte `Uint8Array`.
 *
 * @example
 * assertEventId(new Uint8Array(32)) // passes
 */
export function assertEventId (id: unknown, where = 'id'): asserts id is Uint8Array {
  if (!(id instanceof Uint8Array)) {
    throw new StoreError('ERR_BAD_STORED_EVENT', `${where} must be a Uint8Array`)
  }
  if (id.length !== EVENT_ID_LENGTH) {
    throw new StoreError('ERR_BAD_STORED_EVENT',
      `${where} must be ${EVENT_ID_LENGTH} bytes, got ${id.length}`)
  }
}

/**
 * Throw `ERR_BAD_STORED_EVENT` unless `events` is an array of well-formed stored events. Checks
 * every entry before the caller touches its storage, so a bad entry refuses the batch whole.
 *
 * @example
 * assertStoredEvents([{ id: new Uint8Array(32), bytes: new Uint8Array([1]) }]) // passes
 */
export function assertStoredEvents (events: unknown): asserts events is readonly StoredEventLike[] {
  if (!Array.isArray(events)) {
    throw new StoreError('ERR_BAD_STORED_EVENT', 'a batch must be an array of stored events')
  }
  for (let i = 0; i < events.length; i++) {
    const event: unknown = events[i]
    if (typeof event !== 'object' || event === null) {
      throw new StoreError('ERR_BAD_STORED_EVENT', `batch[${i}] is not an object`)
    }
    const { id, bytes } = event as { id?: unknown, bytes?: unknown }
    assertEventId(id, `batch[${i}].id`)
    if (!(bytes instanceof Uint8Array)) {
      throw new StoreError('ERR_BAD_STORED_EVENT', `batch[${i}].bytes must be a Uint8Array`)
    }
    if (bytes.length === 0) {
      throw new StoreError('ERR_BAD_STORED_EVENT', `batch[${i}].bytes must not be empty`)
    }
  }
}

/**
 * The error for an id stored (or repeated in a batch) with different bytes.
 *
 * @example
 * throw conflictError(3, id)
 */
export function conflictError (index: number, id: Uint8Array): StoreError {
  return new StoreError('ERR_STORE_CONFLICT',
    `batch[${index}] has id ${toHex(id)} which is already stored with different bytes`)
}

/**
 * Decide what a validated batch adds to a store: the entries whose ids are new, first occurrence
 * only, in batch order. Throws `ERR_STORE_CONFLICT` if an id maps to two different byte strings
 * (within the batch or against `lookup`). Pure: the caller applies the result, so a throw leaves
 * its state untouched. For key-value backends (memory, IndexedDB); SQLite does the same in SQL.
 *
 * @example
 * const fresh = planAppend(batch, (id) => stored.get(toKey(id)))
 */
export function planAppend (
  events: readonly StoredEventLike[],
  lookup: (id: Uint8Array) => Uint8Array | undefined
): StoredEventLike[] {
  const fresh: StoredEventLike[] = []
  const inBatch = new Map<string, Uint8Array>()
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as StoredEventLike
    const key = toKey(event.id)
    const earlier = inBatch.get(key) ?? lookup(event.id)
    if (earlier === undefined) {
      inBatch.set(key, event.bytes)
      fresh.push(event)
    } else if (!equalBytes(earlier, event.bytes)) {
      throw conflictError(i, event.id)
    }
  }
  return fresh
}
