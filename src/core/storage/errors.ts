/**
 * The errors of the storage domain: every failure an `EventStore` adapter reports on purpose is a
 * `StoreError` with one of the stable codes below. The class lives in the core (not in an
 * adapter) so the memory, SQLite and IndexedDB stores throw the same class without one adapter
 * importing another (ARCHITECTURE.md: "never one adapter → another adapter").
 */

import { EdgeNetError } from '../errors.ts'

/**
 * The stable codes of `StoreError`, one per failure a caller may want to tell apart.
 *
 * - `ERR_STORE_CLOSED`: the store was closed; no further call succeeds.
 * - `ERR_STORE_CORRUPT`: the backing file is not a database, or the database reports corruption.
 * - `ERR_STORE_VERSION`: the file carries a schema version (or application id) this code does not
 *   know, e.g. it was written by a newer edge-net or by another program.
 * - `ERR_BAD_STORED_EVENT`: an argument is not a well-formed `StoredEvent` or event id (id not a
 *   32-byte `Uint8Array`, bytes empty or not a `Uint8Array`, batch not an array).
 * - `ERR_STORE_CONFLICT`: an id is already stored (or repeated in the same batch) with different
 *   bytes. Ids are SHA-256 digests of the bytes, so this is a caller bug or tampering, never a
 *   legitimate second version: the whole batch is refused.
 * - `ERR_STORE_ABORTED`: the caller's `AbortSignal` fired before the operation took effect.
 * - `ERR_BAD_STORE_OPTIONS`: a store was opened with a bad path or option value.
 * - `ERR_STORE_IO`: the backend failed (disk full, I/O error, locked past the busy timeout, WAL
 *   unavailable); the backend's error is the `cause`.
 *
 * @example
 * if (err instanceof StoreError && STORE_ERROR_CODES.includes(err.code)) console.log(err.code)
 */
export const STORE_ERROR_CODES = [
  'ERR_STORE_CLOSED',
  'ERR_STORE_CORRUPT',
  'ERR_STORE_VERSION',
  'ERR_BAD_STORED_EVENT',
  'ERR_STORE_CONFLICT',
  'ERR_STORE_ABORTED',
  'ERR_BAD_STORE_OPTIONS',
  'ERR_STORE_IO'
] as const

/** One of `STORE_ERROR_CODES`. @example const code: StoreErrorCode = 'ERR_STORE_CLOSED' */
export type StoreErrorCode = typeof STORE_ERROR_CODES[number]

/**
 * A failure of an `EventStore`. A call that throws it has changed nothing: a refused batch leaves
 * the store exactly as it was.
 *
 * @example
 * try { await store.append(batch) } catch (err) {
 *   if (err instanceof StoreError && err.code === 'ERR_STORE_CONFLICT') reportTampering(err)
 * }
 */
export class StoreError extends EdgeNetError {
  declare readonly code: StoreErrorCode

  constructor (code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'StoreError'
  }
}

/**
 * The part of an `AbortSignal` the core reads. Declared structurally because the core is compiled
 * without DOM or Node types (tsconfig.core.json); a real `AbortSignal` fits it.
 *
 * @example
 * const signal: AbortLike = AbortSignal.abort()
 */
export interface AbortLike { readonly aborted: boolean; readonly reason?: unknown }

/**
 * Throw `ERR_STORE_ABORTED` if the signal has fired; the signal's reason becomes the `cause`.
 *
 * @example
 * throwIfAborted(options?.signal)
 */
export function throwIfAborted (signal: AbortLike | undefined): void {
  if (signal?.aborted === true) {
    throw new StoreError('ERR_STORE_ABORTED', 'the operation was aborted', { cause: signal.reason })
  }
}
