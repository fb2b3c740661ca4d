/**
 * Errors of the worker pool itself. A kernel's own failure (bad input, trap, out of fuel) crosses
 * the thread boundary as the kernel's `KernelError`; these codes are for what happens to the
 * worker or the pool around it.
 */
import { EdgeNetError } from '../../core/errors.ts'

/**
 * Every code a {@link WorkerPoolError} can carry (docs/errors.md lists them).
 *
 * @example
 * WORKER_POOL_ERROR_CODES.includes('ERR_WORKER_CRASHED') // true
 */
export const WORKER_POOL_ERROR_CODES = [
  /** The worker running the task died (exit, uncaught error, out of memory); it was replaced. */
  'ERR_WORKER_CRASHED',
  /** A task other than custom_wasm ran past its deadline; its worker was terminated and replaced. */
  'ERR_WORKER_TIMEOUT',
  /** The task's abort signal fired. */
  'ERR_WORKER_ABORTED',
  /** The kernel threw something that is not a KernelError (a bug); the message is the original's. */
  'ERR_WORKER_TASK_FAILED',
  /** The pool was closed before or while the task ran. */
  'ERR_WORKER_POOL_CLOSED',
  /** A pool option or run option out of range (size, duty cycle, deadline, payload type). */
  'ERR_WORKER_POOL_BAD_OPTIONS'
] as const

/** One of {@link WORKER_POOL_ERROR_CODES}. @example const code: WorkerPoolErrorCode = 'ERR_WORKER_CRASHED' */
export type WorkerPoolErrorCode = typeof WORKER_POOL_ERROR_CODES[number]

/**
 * A pooled task failed because of its worker or the pool, not its kernel.
 *
 * @example
 * try { await pool.run('custom_wasm', payload) } catch (err) {
 *   if (err instanceof WorkerPoolError && err.code === 'ERR_WORKER_CRASHED') { ... }
 * }
 */
export class WorkerPoolError extends EdgeNetError {
  declare readonly code: WorkerPoolErrorCode

  constructor (code: WorkerPoolErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'WorkerPoolError'
  }
}
