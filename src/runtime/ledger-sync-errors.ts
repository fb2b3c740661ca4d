/**
 * Errors of ledger replication between nodes (ledger-sync.ts). Two kinds: what a local caller did
 * wrong or cannot have now (bad options, a closed replicator, too many sessions), and what a peer
 * did: each peer offence is a `LedgerSyncError` counted against that peer (`peerScore`), reported
 * through `onInvalid`, and never applied to the ledger.
 */
import { EdgeNetError } from '../core/errors.ts'

/**
 * Every code a {@link LedgerSyncError} can carry (docs/network.md explains when each arises).
 *
 * @example
 * LEDGER_SYNC_ERROR_CODES.includes('ERR_SYNC_TIMEOUT') // true
 */
export const LEDGER_SYNC_ERROR_CODES = [
  /** The peer went silent in the middle of a sync session for longer than `sessionTimeoutMs`. */
  'ERR_SYNC_TIMEOUT',
  /** A peer's message on a ledger topic does not decode: not canonical CBOR, wrong shape, bad sync message. */
  'ERR_SYNC_MALFORMED',
  /** A peer's message is larger than the inbound cap (MAX_INBOUND_BYTES). */
  'ERR_SYNC_OVERSIZED',
  /** A peer sent an event the ledger refused (bad signature, overdraft, broken chain, ...): `cause` is the LedgerError. */
  'ERR_SYNC_INVALID_EVENT',
  /** Too many sync sessions at once (with this peer, or in all), here or at the peer. */
  'ERR_SYNC_BUSY',
  /** The peer ended the session (it was busy, closing, or refused one of our messages). */
  'ERR_SYNC_ABORTED',
  /** A session went on for more than MAX_SESSION_STEPS messages. */
  'ERR_SYNC_LIMIT',
  /** The replicator was closed: running sessions end with this, new ones are refused. */
  'ERR_SYNC_CLOSED',
  /** An option or argument out of range (message cap, interval, a peer key that is not 32 bytes, ...). */
  'ERR_SYNC_BAD_OPTIONS'
] as const

/** One of {@link LEDGER_SYNC_ERROR_CODES}. @example const code: LedgerSyncErrorCode = 'ERR_SYNC_BUSY' */
export type LedgerSyncErrorCode = typeof LEDGER_SYNC_ERROR_CODES[number]

/**
 * A replication failure or a peer's offence.
 *
 * @example
 * try { await sync.syncWith(peer) } catch (err) {
 *   if (err instanceof LedgerSyncError && err.code === 'ERR_SYNC_TIMEOUT') retryLater()
 * }
 */
export class LedgerSyncError extends EdgeNetError {
  declare readonly code: LedgerSyncErrorCode

  constructor (code: LedgerSyncErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'LedgerSyncError'
  }
}
