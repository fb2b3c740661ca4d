import { EdgeNetError } from '../errors.ts'

/** Every reason the ledger refuses an event or a call. Listed with meanings in docs/errors.md. */
export const LEDGER_ERROR_CODES = [
  'ERR_BAD_EVENT',
  'ERR_BAD_BODY',
  'ERR_UNKNOWN_EVENT_TYPE',
  'ERR_EVENT_TOO_LARGE',
  'ERR_BAD_SIGNATURE',
  'ERR_CHAIN_BROKEN',
  'ERR_TIME_REGRESSION',
  'ERR_FUTURE_EVENT',
  'ERR_BAD_AMOUNT',
  'ERR_OVERDRAFT',
  'ERR_TRIAL_NOT_TRANSFERABLE',
  'ERR_TRIAL_ALREADY_GRANTED',
  'ERR_BAD_PROOF_OF_WORK',
  'ERR_SELF_TARGET',
  'ERR_ESCROW_EXISTS',
  'ERR_NO_ESCROW',
  'ERR_BAD_TRIAL_SPLIT',
  'ERR_BAD_CERTIFICATE',
  'ERR_NOT_A_WORKER',
  'ERR_ALREADY_REWARDED',
  'ERR_INSUFFICIENT_STAKE',
  'ERR_STAKE_LOCKED',
  'ERR_BAD_SLASH',
  'ERR_BAD_SETTLEMENT',
  'ERR_BAD_NETWORK_WORK',
  'ERR_BAD_ACCOUNT_JSON',
  'ERR_LEDGER_CLOSED',
  'ERR_STORE_FAILED'
] as const
export type LedgerErrorCode = typeof LEDGER_ERROR_CODES[number]

/**
 * Why the ledger refused an event or a call. A refused event changes nothing.
 * @example if (err instanceof LedgerError && err.code === 'ERR_OVERDRAFT') { ... }
 */
export class LedgerError extends EdgeNetError {
  declare readonly code: LedgerErrorCode
  constructor (code: LedgerErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'LedgerError'
  }
}
