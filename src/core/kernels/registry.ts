/**
 * The kernels this build can run, by task type. The worker pool's entry and the task system look
 * kernels up here; a type missing from the map is refused with `ERR_KERNEL_UNKNOWN_TYPE`.
 */
import type { TaskType } from '../economy/prices.ts'
import type { Kernel } from './types.ts'
import { KernelError } from './errors.ts'
import { customWasmKernel } from './custom-wasm.ts'
import { encryptionKernel } from './encryption.ts'
import { compressionKernel } from './compression.ts'
import { neuralKernel } from './neural.ts'
import { vectorInsertKernel, vectorSearchKernel } from './vector.ts'
import { EMBEDDING_KERNEL } from './embedding.ts'
import { SEMANTIC_MATCH_KERNEL } from './semantic-match.ts'

/** Every kernel of this build. @example KERNELS.encryption?.type === 'encryption' */
export const KERNELS: Partial<Record<TaskType, Kernel>> = {
  vector_search: vectorSearchKernel,
  vector_insert: vectorInsertKernel,
  embedding: EMBEDDING_KERNEL,
  semantic_match: SEMANTIC_MATCH_KERNEL,
  neural_inference: neuralKernel,
  encryption: encryptionKernel,
  compression: compressionKernel,
  custom_wasm: customWasmKernel
}

/**
 * The kernel for a task type, or `ERR_KERNEL_UNKNOWN_TYPE`.
 *
 * @example
 * const out = await kernelFor('encryption').run(payload)
 */
export function kernelFor (type: string, kernels: Partial<Record<TaskType, Kernel>> = KERNELS): Kernel {
  const kernel = Object.hasOwn(kernels, type) ? kernels[type as TaskType] : undefined
  if (kernel === undefined) throw new KernelError('ERR_KERNEL_UNKNOWN_TYPE', `no kernel runs task type '${type}'`)
  return kernel
}
