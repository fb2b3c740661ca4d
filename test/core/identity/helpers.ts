/**
 * Shared by the identity tests: the fast-check seed (printed on failure), hex helpers, and an
 * in-memory KeyStore.
 */
import type { KeyStore } from '../../../src/ports.ts'
import { fromHex, toHex } from '../../../src/core/bytes.ts'

/** The seed of every property test in a run: SEED=... reproduces a failure. */
export const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)

/** fast-check parameters with the seed, and a message that prints it. */
export function runs (numRuns: number): { seed: number, numRuns: number } {
  return { seed, numRuns }
}

/** Wrap a property run so its failure names the seed. */
export async function withSeed (run: () => Promise<void> | void): Promise<void> {
  try {
    await run()
  } catch (err) {
    throw new Error(`property failed; reproduce with SEED=${seed}: ${(err as Error).message}`, { cause: err })
  }
}

export function hex (text: string): Uint8Array {
  const bytes = fromHex(text)
  if (bytes === null) throw new Error(`bad hex in test: ${text}`)
  return bytes
}

export { toHex }

/** A KeyStore in memory, refusing to overwrite like the real ones. */
export class MemoryKeyStore implements KeyStore {
  bytes: Uint8Array | null = null
  saves = 0

  async load (): Promise<Uint8Array | null> {
    return this.bytes === null ? null : this.bytes.slice()
  }

  async save (bytes: Uint8Array): Promise<void> {
    if (this.bytes !== null) throw new Error('exists')
    this.saves++
    this.bytes = bytes.slice()
  }
}

/** Flip one bit of a copy. */
export function flipBit (bytes: Uint8Array, bit: number): Uint8Array {
  const out = new Uint8Array(bytes) // a plain copy (Buffer.prototype.slice would alias)
  out[bit >>> 3] = (out[bit >>> 3] as number) ^ (1 << (bit & 7))
  return out
}
