/**
 * The worker_threads adapter of the WorkerPool port: kernels run off the main thread with a
 * size, a CPU share, wall-time limits and crash recovery.
 *
 * @example
 * import { WorkerThreadsPool } from 'edge-net'
 * const pool = WorkerThreadsPool.create({ size: 2, dutyCycle: 0.5 })
 */
export { WorkerThreadsPool, MAX_DEADLINE_MS } from './worker-pool.ts'
export type { WorkerThreadsPoolInit, TaskEndInfo, TaskOutcome } from './worker-pool.ts'
export { WorkerPoolError, WORKER_POOL_ERROR_CODES } from './errors.ts'
export type { WorkerPoolErrorCode } from './errors.ts'
