/**
 * Deciding which answer counts, and how much to replicate.
 *
 * - `tally`: group the revealed results by the kernel's comparator (exact bytes, or a float
 *   tolerance) around each result and keep the largest group; the rest are outliers.
 * - `AdaptiveReplication`: BOINC's adaptive replication (Anderson, "BOINC: A Platform for
 *   Volunteer Computing", 2019, §6.3): per (worker, task type) the submitter counts consecutive
 *   valid results CV; once CV >= K (default 10) that worker's tasks are replicated only with
 *   probability 1/CV; one invalid result resets CV to 0; newcomers (CV = 0) are always replicated.
 */
import { toKey } from '../bytes.ts'

/** One worker's revealed result. */
export interface RevealedResult { readonly worker: Uint8Array, readonly result: Uint8Array }

/** The outcome of a tally. @example if (t.agreeing.length >= 2) settle(t.result) */
export interface Tally {
  /** A representative result of the largest agreeing group (null when nothing was revealed). */
  readonly result: Uint8Array | null
  /** Workers whose results agree with `result`. */
  readonly agreeing: Uint8Array[]
  /** Workers whose results do not. */
  readonly outliers: Uint8Array[]
}

/**
 * Group results around each one by `agree` and keep the largest group (ties go to the earlier
 * reveal, so the outcome is the same for the same input order).
 *
 * @example
 * tally(reveals, (a, b) => kernel.agree(a, b))
 */
export function tally (reveals: readonly RevealedResult[], agree: (a: Uint8Array, b: Uint8Array) => boolean): Tally {
  let best = -1
  let bestGroup: number[] = []
  for (let i = 0; i < reveals.length; i++) {
    const group: number[] = []
    for (let j = 0; j < reveals.length; j++) {
      if (i === j || agree((reveals[i] as RevealedResult).result, (reveals[j] as RevealedResult).result)) group.push(j)
    }
    if (group.length > bestGroup.length) { best = i; bestGroup = group }
  }
  if (best === -1) return { result: null, agreeing: [], outliers: [] }
  const inGroup = new Set(bestGroup)
  return {
    result: (reveals[best] as RevealedResult).result,
    agreeing: bestGroup.map(j => (reveals[j] as RevealedResult).worker),
    outliers: reveals.filter((_, j) => !inGroup.has(j)).map(r => r.worker)
  }
}

/**
 * Which reveals agree with a known answer (a spot-check's, or the submitter's own re-execution).
 *
 * @example
 * const { agreeing, outliers } = judge(reveals, expected, agree)
 */
export function judge (reveals: readonly RevealedResult[], expected: Uint8Array, agree: (a: Uint8Array, b: Uint8Array) => boolean): Tally {
  const agreeing: Uint8Array[] = []
  const outliers: Uint8Array[] = []
  for (const r of reveals) (agree(r.result, expected) ? agreeing : outliers).push(r.worker)
  return { result: expected, agreeing, outliers }
}

/** Options of adaptive replication. @example new AdaptiveReplication({ threshold: 10 }) */
export interface AdaptiveReplicationOptions {
  /** K: consecutive valid results before a worker may run a task alone. Default 10. */
  readonly threshold?: number
}

/**
 * Per (worker, type) consecutive-valid counters, and the replication decision they drive.
 *
 * @example
 * const ar = new AdaptiveReplication()
 * const n = ar.replicas(worker, 'encryption', 3, random01)
 * ar.record(worker, 'encryption', true)
 */
export class AdaptiveReplication {
  readonly threshold: number
  readonly #cv = new Map<string, number>()

  constructor (options: AdaptiveReplicationOptions = {}) {
    this.threshold = options.threshold ?? 10
    if (!Number.isSafeInteger(this.threshold) || this.threshold < 1) throw new RangeError('threshold must be a positive integer')
  }

  /** CV of a worker for a type. @example ar.consecutiveValid(w, 'embedding') */
  consecutiveValid (worker: Uint8Array, type: string): number {
    return this.#cv.get(type + ':' + toKey(worker)) ?? 0
  }

  /**
   * How many replicas a task first assigned to `worker` should get: `redundancy`, or 1 with
   * probability 1 − 1/CV once CV >= K. `random01` is a uniform draw in [0, 1).
   */
  replicas (worker: Uint8Array, type: string, redundancy: number, random01: number): number {
    const cv = this.consecutiveValid(worker, type)
    if (cv < this.threshold) return redundancy
    return random01 < 1 / cv ? redundancy : 1
  }

  /** Count a validated result: valid increments CV, invalid resets it to 0. */
  record (worker: Uint8Array, type: string, valid: boolean): void {
    const key = type + ':' + toKey(worker)
    this.#cv.set(key, valid ? (this.#cv.get(key) ?? 0) + 1 : 0)
  }
}
