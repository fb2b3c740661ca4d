/**
 * Shared by these tests: the fast-check seed of the run (SEED=... reproduces a failure) and a wrapper
 * that names it in the failure message.
 */
import fc from 'fast-check'

/** The seed of every property test in a run. */
export const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)

/** Run a fast-check property with the run's seed; a failure message starts with the seed. */
export function check<Ts extends [unknown, ...unknown[]]> (property: fc.IProperty<Ts>, numRuns = 200): void {
  try {
    fc.assert(property, { seed, numRuns })
  } catch (err) {
    throw new Error(`property failed; reproduce with SEED=${seed}: ${(err as Error).message}`, { cause: err })
  }
}

