/**
 * The storage domain's public face: the error class every `EventStore` adapter throws and the
 * input rules they all share. The `EventStore` interface itself is a port (src/ports.ts).
 *
 * @example
 * import { StoreError, assertStoredEvents } from '../core/storage/index.ts'
 */

export { StoreError, STORE_ERROR_CODES, throwIfAborted } from './errors.ts'
export type { StoreErrorCode, AbortLike } from './errors.ts'
export { EVENT_ID_LENGTH, assertEventId, assertStoredEvents, conflictError, planAppend } from './validate.ts'
export type { StoredEventLike } from './validate.ts'
