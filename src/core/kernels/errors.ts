import { EdgeNetError } from '../errors.ts'

/**
 * Every code a {@link KernelError} can carry (docs/errors.md lists them).
 *
 * @example
 * KERNEL_ERROR_CODES.includes('ERR_KERNEL_NON_FINITE') // true
 */
export const KERNEL_ERROR_CODES = [
  'ERR_KERNEL_BAD_PAYLOAD',
  'ERR_KERNEL_PAYLOAD_TOO_LARGE',
  'ERR_KERNEL_DIMENSION_MISMATCH',
  'ERR_KERNEL_NON_FINITE',
  'ERR_KERNEL_BAD_PARAMETER',
  'ERR_KERNEL_UNKNOWN_TYPE',
  'ERR_KERNEL_DECRYPT_FAILED',
  'ERR_KERNEL_MODEL_LOAD_FAILED',
  'ERR_WASM_INVALID_MODULE',
  'ERR_WASM_MEMORY_LIMIT',
  'ERR_WASM_FORBIDDEN_IMPORT',
  'ERR_WASM_TIMEOUT',
  'ERR_WASM_OUT_OF_FUEL',
  'ERR_WASM_OUTPUT_TOO_LARGE',
  'ERR_WASM_TRAP'
] as const

/** One of {@link KERNEL_ERROR_CODES}. @example const code: KernelErrorCode = 'ERR_WASM_TIMEOUT' */
export type KernelErrorCode = typeof KERNEL_ERROR_CODES[number]

/**
 * A kernel refused its input or failed to run it. Thrown before any work is done for bad input;
 * kernels are pure, so nothing is half-applied.
 *
 * @example
 * try { KERNELS.vector_search.size(payload) } catch (err) {
 *   if (err instanceof KernelError && err.code === 'ERR_KERNEL_DIMENSION_MISMATCH') { ... }
 * }
 */
export class KernelError extends EdgeNetError {
  declare readonly code: KernelErrorCode

  constructor (code: KernelErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'KernelError'
  }
}
