import { EdgeNetError } from '../errors.ts'

/**
 * Every code an {@link EconomyError} can carry. Stable strings: callers branch on them, docs/errors.md
 * lists them.
 *
 * - `ERR_BAD_HOURS`: network compute-hours negative, NaN or infinite.
 * - `ERR_BAD_CURVE`: contribution-curve options out of range (max < 1 or too large, decay <= 0).
 * - `ERR_UNKNOWN_TASK_TYPE`: a task type that is not in the price table.
 * - `ERR_BAD_TASK_SIZE`: a task size that is negative, fractional, NaN or above the type's maximum.
 * - `ERR_BAD_PRIORITY`: a priority other than 'low' | 'normal' | 'high'.
 * - `ERR_BAD_STORAGE_SIZE`: storage bytes or days negative, fractional, NaN or above the maximum.
 * - `ERR_BAD_MICRO_AMOUNT`: a micro-credit amount that is not a non-negative bigint.
 * - `ERR_UNKNOWN_SLASH_REASON`: a slash reason that is not one of `SLASH_REASONS`.
 * - `ERR_BAD_CO_WORKERS`: a co-worker list with an empty or duplicate id.
 *
 * @example
 * ECONOMY_ERROR_CODES.includes('ERR_BAD_HOURS') // true
 */
export const ECONOMY_ERROR_CODES = [
  'ERR_BAD_HOURS',
  'ERR_BAD_CURVE',
  'ERR_UNKNOWN_TASK_TYPE',
  'ERR_BAD_TASK_SIZE',
  'ERR_BAD_PRIORITY',
  'ERR_BAD_STORAGE_SIZE',
  'ERR_BAD_MICRO_AMOUNT',
  'ERR_UNKNOWN_SLASH_REASON',
  'ERR_BAD_CO_WORKERS'
] as const

/** One of {@link ECONOMY_ERROR_CODES}. @example const code: EconomyErrorCode = 'ERR_BAD_CURVE' */
export type EconomyErrorCode = typeof ECONOMY_ERROR_CODES[number]

/**
 * A rule of the economy was given input it cannot price, scale or split. Thrown before any state
 * changes (every function in this folder is pure anyway).
 *
 * @example
 * try { priceTask({ type: 'mining', size: 1 }) } catch (err) {
 *   if (err instanceof EconomyError && err.code === 'ERR_UNKNOWN_TASK_TYPE') { ... }
 * }
 */
export class EconomyError extends EdgeNetError {
  declare readonly code: EconomyErrorCode

  constructor (code: EconomyErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'EconomyError'
  }
}

/** Throw `ERR_BAD_MICRO_AMOUNT` unless `amount` is a non-negative bigint. Internal helper. @example assertMicroAmount(stake, 'stake') */
export function assertMicroAmount (amount: unknown, what: string): asserts amount is bigint {
  if (typeof amount !== 'bigint' || amount < 0n) {
    throw new EconomyError('ERR_BAD_MICRO_AMOUNT', `${what} must be a non-negative bigint of micro-credits, got ${String(amount)}`)
  }
}
