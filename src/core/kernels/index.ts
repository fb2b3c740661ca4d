/**
 * Compute kernels: pure functions from a payload to a result, one per task type, with the
 * comparator verification uses.
 */
export { KernelError, KERNEL_ERROR_CODES } from './errors.ts'
export type { KernelErrorCode } from './errors.ts'
export type { Kernel, KernelRunOptions } from './types.ts'
export { floatsToBytes, bytesToFloats, bytesToMatrix } from './floats.ts'
export { KERNELS, kernelFor } from './registry.ts'
export * from './vector.ts'
export { HnswIndex, HNSW_LIMITS, HNSW_METRICS, validateHnswParams } from './hnsw.ts'
export type { HnswParams, HnswMetric } from './hnsw.ts'
export * from './embedding.ts'
export * from './semantic-match.ts'
export * from './encryption.ts'
export * from './compression.ts'
export * from './neural.ts'
export * from './custom-wasm.ts'
