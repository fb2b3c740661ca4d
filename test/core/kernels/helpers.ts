/**
 * Shared by the kernel tests (and the ONNX and worker-pool adapters' tests): a validation function
 * for `assert.throws` / `assert.rejects` that demands a `KernelError` with one code, and the async
 * twin of test/helpers/property.ts's `check`.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { KernelError } from '../../../src/core/kernels/errors.ts'
import { seed } from '../../helpers/property.ts'

/**
 * `assert.throws(fn, kernelError('ERR_KERNEL_BAD_PAYLOAD'))`: passes for a `KernelError` with this
 * code, and fails naming the error or code it got instead.
 */
export function kernelError (code: string): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(err instanceof KernelError, `expected a KernelError ${code}, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    return true
  }
}

/** Run an async fast-check property with the run's seed; a failure message starts with the seed. */
export async function checkAsync<Ts extends [unknown, ...unknown[]]> (property: fc.IAsyncProperty<Ts>, numRuns = 100): Promise<void> {
  try {
    await fc.assert(property, { seed, numRuns })
  } catch (err) {
    throw new Error(`property failed; reproduce with SEED=${seed}: ${(err as Error).message}`, { cause: err })
  }
}
