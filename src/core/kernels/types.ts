/**
 * The contract every compute kernel keeps, so the task system can price, run and verify any task
 * type the same way. A kernel is pure: bytes in, bytes out, no I/O, no clock, no randomness but a
 * seed carried in the payload (so the redundant workers of one task compute the same answer).
 *
 * Payloads and outputs are canonical CBOR (src/core/codec) maps. The codec has no floats, so a float
 * vector travels as a byte string of little-endian IEEE-754 float32 values (see `floats.ts`), and a
 * scalar float parameter as a float32 byte string of length 4 or as an integer in stated units.
 */
import type { TaskType } from '../economy/prices.ts'

/** Options for one kernel run. @example await kernel.run(payload, { signal }) */
export interface KernelRunOptions {
  /** Abort a long run (the worker pool also enforces wall time by terminating the worker). */
  readonly signal?: AbortSignal
}

/**
 * One task type's kernel.
 *
 * @example
 * const k = KERNELS.encryption
 * const size = k.size(payload)            // throws KernelError on bad input, before anything is reserved
 * const out = await k.run(payload)
 * k.agree(out, otherWorkersOut)           // the verification comparator
 */
export interface Kernel {
  /** The price table's task type this kernel runs. */
  readonly type: TaskType
  /**
   * Validate the payload completely (shape, limits, dimensions, finite floats) and return the
   * task's size in the price table's unit for this type (economy/prices.ts). Throws `KernelError`.
   */
  size (payload: Uint8Array): number
  /** Run the task. Throws `KernelError` for bad input (same checks as `size`). */
  run (payload: Uint8Array, options?: KernelRunOptions): Promise<Uint8Array>
  /**
   * The comparator of redundant execution: do two workers' outputs count as the same answer?
   * Exact bytes for deterministic kernels; a documented tolerance for float kernels. Malformed
   * outputs never agree with anything (return false, do not throw).
   */
  agree (a: Uint8Array, b: Uint8Array): boolean
}
