import { EdgeNetError } from '../errors.ts'

/**
 * Every code a {@link TaskError} can carry (docs/errors.md lists them).
 *
 * @example
 * TASK_ERROR_CODES.includes('ERR_TASK_PRICE_BELOW_TABLE') // true
 */
export const TASK_ERROR_CODES = [
  'ERR_TASK_BAD_ENVELOPE',
  'ERR_TASK_PRICE_BELOW_TABLE',
  'ERR_TASK_INSUFFICIENT_CREDITS',
  'ERR_TASK_BAD_MESSAGE',
  'ERR_TASK_BAD_OPTIONS',
  'ERR_TASK_EXPIRED',
  'ERR_TASK_NOT_VERIFIED',
  'ERR_TASK_STOPPED'
] as const

/** One of {@link TASK_ERROR_CODES}. @example const code: TaskErrorCode = 'ERR_TASK_EXPIRED' */
export type TaskErrorCode = typeof TASK_ERROR_CODES[number]

/**
 * The task system refused an envelope, an option or a protocol message, or a task ended without a
 * verified result. A refused submission reserves nothing.
 *
 * @example
 * try { await node.submit(task) } catch (err) {
 *   if (err instanceof TaskError && err.code === 'ERR_TASK_INSUFFICIENT_CREDITS') { ... }
 * }
 */
export class TaskError extends EdgeNetError {
  declare readonly code: TaskErrorCode

  constructor (code: TaskErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'TaskError'
  }
}
