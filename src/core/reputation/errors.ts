import { EdgeNetError } from '../errors.ts'

/**
 * Every code a {@link ReputationError} can carry.
 *
 * - `ERR_BAD_ACCURACY`: an accuracy (or minimum accuracy) that is not a finite number in [0, 1].
 * - `ERR_BAD_UPTIME`: an uptime not in [0, 1], negative seconds, or more seconds up than elapsed.
 * - `ERR_BAD_STAKE`: a stake that is not a bigint >= 0 micro-credits.
 * - `ERR_BAD_TASK_COUNT`: a task count that is not a bigint >= 0.
 * - `ERR_BAD_SCORE`: a composite score that is not a finite number in [0, 1].
 * - `ERR_BAD_REPUTATION_JSON`: `ReputationScore.fromJSON` was given something `toJSON` cannot have made.
 * - `ERR_UNKNOWN_OBSERVATION_KIND`: an observation kind not in `OBSERVATION_KINDS`.
 * - `ERR_BAD_OBSERVATION_COUNT`: an observation count that is not a positive safe integer.
 * - `ERR_BAD_OBSERVER_ID`: an observer or subject id that is not a non-empty string.
 * - `ERR_BAD_OBSERVER_WEIGHT`: an observer standing that is not a finite number in [0, 1].
 *
 * @example
 * REPUTATION_ERROR_CODES.includes('ERR_BAD_UPTIME') // true
 */
export const REPUTATION_ERROR_CODES = [
  'ERR_BAD_ACCURACY',
  'ERR_BAD_UPTIME',
  'ERR_BAD_STAKE',
  'ERR_BAD_TASK_COUNT',
  'ERR_BAD_SCORE',
  'ERR_BAD_REPUTATION_JSON',
  'ERR_UNKNOWN_OBSERVATION_KIND',
  'ERR_BAD_OBSERVATION_COUNT',
  'ERR_BAD_OBSERVER_ID',
  'ERR_BAD_OBSERVER_WEIGHT'
] as const

/** One of {@link REPUTATION_ERROR_CODES}. @example const code: ReputationErrorCode = 'ERR_BAD_STAKE' */
export type ReputationErrorCode = typeof REPUTATION_ERROR_CODES[number]

/**
 * Reputation input out of range. Thrown before any state changes.
 *
 * @example
 * try { new ReputationScore(1.2, 1, 0n) } catch (err) {
 *   if (err instanceof ReputationError) console.log(err.code) // 'ERR_BAD_ACCURACY'
 * }
 */
export class ReputationError extends EdgeNetError {
  declare readonly code: ReputationErrorCode

  constructor (code: ReputationErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'ReputationError'
  }
}

/** Throw `code` unless `value` is a finite number in [0, 1]. Internal helper. @example assertUnitInterval(uptime, 'ERR_BAD_UPTIME', 'uptime') */
export function assertUnitInterval (value: unknown, code: ReputationErrorCode, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ReputationError(code, `${what} must be a finite number in [0, 1], got ${String(value)}`)
  }
}
