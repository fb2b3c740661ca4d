/**
 * Reputation from observations (seed 003; ARCHITECTURE.md "Reputation"): other nodes sign
 * `reputation` events saying what they saw a subject do, and every replica folds them into the same
 * score with the rule in this file. The ledger's reputation view keeps one {@link ObservationTally} per
 * subject, adds each valid observation event once (event ids make that idempotent), and asks for a
 * {@link ObservationScore} with the observers' current standings.
 *
 * The rule, for one subject, over observers o with standing w_o in [0, 1]:
 *
 *     per observer and dimension (accuracy or uptime): p_o positives, n_o negatives
 *     evidence   g(k)  = k·C / (k + C),  C = OBSERVER_EVIDENCE_CAP = 10     (concave, g < C)
 *     mass       m_o   = w_o · g(p_o + n_o)
 *     accuracy         = 1 − (1 + Σ m_o·n_o/(p_o+n_o)) / (2 + Σ m_o)           prior Beta(1, 1)
 *     uptime           = 1 − (0 + Σ m_o·n_o/(p_o+n_o)) / (1 + Σ m_o)           prior: one heartbeat seen
 *                      (the same as (prior positives + Σ m_o·p_o/(p_o+n_o)) / mass, written so
 *                      that float rounding cannot leave [0, 1])
 *     composite        = accuracy² · uptime                                     as ReputationScore
 *     confidence       = 1 − 1 / (1 + Σ w_o)      over observers with any observation
 *
 * Why each part:
 * - g caps one observer: however many observations one node signs, it adds less than C units of
 *   evidence, so it moves a score no further than two independent observers with C observations each.
 *   One observer alone, even at full standing, cannot lift a subject's accuracy above 11/12, nor its
 *   composite to Trusted (0.85 > (11/12)² ≈ 0.840); Trusted takes at least two, Elite at least four. g(k) ≈ k for small k, so a few
 *   honest observations count nearly fully.
 * - Each observer's mass is split by its own positive/negative ratio, so its spam cannot change the
 *   ratio it reports, only (up to the cap) how much it weighs.
 * - Standing w_o comes from the caller (see {@link observerStanding}); an observer of standing 0 has no
 *   effect. Fresh sybil identities should have standing 0, or else k sybils add k·C of evidence: the
 *   cap bounds each observer, standing bounds who counts (EigenTrust's pre-trusted peers, Kamvar et al.
 *   2003, are the usual way to seed standing at genesis).
 * - Priors: with no observations the score is neutral, accuracy 0.5, uptime 1, composite 0.25,
 *   confidence 0, the same as `ReputationScore.newcomer()`.
 * - Determinism: counts are integers; the sums run over observers in ascending id order and use only
 *   +, ·, / (no transcendental function), so every replica and engine gets the same floats for the same
 *   counts and standings, whatever order the observations arrived in.
 */

import { ReputationError, assertUnitInterval } from './errors.ts'

/** What an observer can report about a subject. @example OBSERVATION_KINDS.includes('spot_fail') */
export const OBSERVATION_KINDS = [
  'task_verified',
  'task_mismatch',
  'spot_pass',
  'spot_fail',
  'heartbeat_seen',
  'heartbeat_missed',
  'audit_pass',
  'audit_fail'
] as const

/** One of {@link OBSERVATION_KINDS}. @example const k: ObservationKind = 'heartbeat_seen' */
export type ObservationKind = typeof OBSERVATION_KINDS[number]

/** Which part of the composite an observation informs. @example const d: ObservationDimension = 'uptime' */
export type ObservationDimension = 'accuracy' | 'uptime'

/**
 * What each kind counts toward. Task results, spot-checks (known answers) and audits speak to
 * accuracy; heartbeats to uptime. All weigh the same: one knob fewer, and a failed spot-check's extra
 * certainty is already in the worker's slash.
 * @example OBSERVATION_EFFECT.spot_fail // { dimension: 'accuracy', positive: false }
 */
export const OBSERVATION_EFFECT: Readonly<Record<ObservationKind, { readonly dimension: ObservationDimension, readonly positive: boolean }>> = Object.freeze({
  task_verified: { dimension: 'accuracy', positive: true },
  task_mismatch: { dimension: 'accuracy', positive: false },
  spot_pass: { dimension: 'accuracy', positive: true },
  spot_fail: { dimension: 'accuracy', positive: false },
  heartbeat_seen: { dimension: 'uptime', positive: true },
  heartbeat_missed: { dimension: 'uptime', positive: false },
  audit_pass: { dimension: 'accuracy', positive: true },
  audit_fail: { dimension: 'accuracy', positive: false }
})

/** Kinds that count toward accuracy. @example ACCURACY_KINDS.includes('audit_pass') */
export const ACCURACY_KINDS: readonly ObservationKind[] = Object.freeze(OBSERVATION_KINDS.filter(k => OBSERVATION_EFFECT[k].dimension === 'accuracy'))

/** Kinds that count toward uptime. @example UPTIME_KINDS // ['heartbeat_seen', 'heartbeat_missed'] */
export const UPTIME_KINDS: readonly ObservationKind[] = Object.freeze(OBSERVATION_KINDS.filter(k => OBSERVATION_EFFECT[k].dimension === 'uptime'))

/** C: the bound on the evidence one observer can contribute per dimension (approached, never reached). @example OBSERVER_EVIDENCE_CAP === 10 */
export const OBSERVER_EVIDENCE_CAP = 10

/**
 * Pseudo-observations before any real one: accuracy Beta(1, 1) (mean 0.5), uptime one heartbeat seen
 * (mean 1; silence is not downtime).
 * @example OBSERVATION_PRIORS.accuracy // { positive: 1, negative: 1 }
 */
export const OBSERVATION_PRIORS = Object.freeze({
  accuracy: Object.freeze({ positive: 1, negative: 1 }),
  uptime: Object.freeze({ positive: 1, negative: 0 })
})

/**
 * g(k) = k·C / (k + C): the evidence k observations from one observer are worth. Concave,
 * increasing, g(0) = 0, g(k) <= k, g(k) < C. Evaluated as C − C²/(k + C), whose every step is
 * monotone under IEEE rounding, so the float result too is non-decreasing in k and below C for every
 * safe-integer k (k·C would lose exactness above 2^53 / C).
 * @example observerEvidence(10) === 5; observerEvidence(1e15) < 10
 */
export function observerEvidence (count: number): number {
  return OBSERVER_EVIDENCE_CAP - OBSERVER_EVIDENCE_CAP * OBSERVER_EVIDENCE_CAP / (count + OBSERVER_EVIDENCE_CAP)
}

/** The aggregate score of a subject. @example const { composite, confidence } = tally.score(() => 1) */
export interface ObservationScore {
  /** In [0, 1]; 0.5 with no accuracy observations. */
  readonly accuracy: number
  /** In [0, 1]; 1 with no heartbeat observations. */
  readonly uptime: number
  /** accuracy² · uptime, in [0, 1]. */
  readonly composite: number
  /** 1 − 1/(1 + Σ standing) over observers with any observation, in [0, 1); 0 with none. */
  readonly confidence: number
  /** Distinct observers with at least one observation, whatever their standing. */
  readonly observers: number
}

/** The caller's standing of an observer, in [0, 1]. @example const standing: ObserverWeight = id => trusted.has(id) ? 1 : 0 */
export type ObserverWeight = (observerId: string) => number

/**
 * A suggested standing for an observer from its own aggregate: composite · confidence. A fresh
 * identity has confidence 0 and so standing 0, which keeps sybils from vouching for each other; the
 * network's first nodes need a configured standing (pre-trusted peers) to start the recursion.
 * @example observerStanding(tally.score(standingOf)) // in [0, 1)
 */
export function observerStanding (score: ObservationScore): number {
  return score.composite * score.confidence
}

const KIND_INDEX: Readonly<Record<ObservationKind, number>> = Object.freeze(
  Object.fromEntries(OBSERVATION_KINDS.map((k, i) => [k, i])) as Record<ObservationKind, number>
)

function assertId (id: unknown, what: string): asserts id is string {
  if (typeof id !== 'string' || id === '') throw new ReputationError('ERR_BAD_OBSERVER_ID', `${what} must be a non-empty string, got ${String(id)}`)
}

function byCodeUnit (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Counts of observations about one subject, per observer and kind; pure, incremental, append-only.
 *
 * @example
 * const tally = new ObservationTally('node-A')
 * tally.add('node-B', 'task_verified')
 * tally.add('node-C', 'heartbeat_missed', 3)
 * tally.score(() => 1) // { accuracy: 0.656..., uptime: 0.302..., composite: 0.130..., confidence: 0.666..., observers: 2 }
 */
export class ObservationTally {
  readonly #subject: string
  readonly #counts = new Map<string, number[]>()

  /** @throws ReputationError `ERR_BAD_OBSERVER_ID` for an empty subject id. @example new ObservationTally('node-A') */
  constructor (subjectId: string) {
    assertId(subjectId, 'subject id')
    this.#subject = subjectId
  }

  /** The id of the node this tally is about. @example new ObservationTally('n').subject === 'n' */
  get subject (): string { return this.#subject }

  /**
   * Count `count` observations of `kind` made by `observerId`. Returns false and counts nothing when
   * the observer is the subject: a node's word about itself is no observation. The ledger must reject
   * such events before they get here (they are invalid events); the check is repeated here so a view
   * can never be inflated by one that slipped through.
   *
   * @throws ReputationError `ERR_BAD_OBSERVER_ID`, `ERR_UNKNOWN_OBSERVATION_KIND`,
   *   `ERR_BAD_OBSERVATION_COUNT` (count not a positive safe integer). State is unchanged on throw.
   * @example tally.add('node-B', 'spot_pass') // true
   */
  add (observerId: string, kind: ObservationKind, count = 1): boolean {
    assertId(observerId, 'observer id')
    if (typeof kind !== 'string' || !Object.hasOwn(KIND_INDEX, kind)) {
      throw new ReputationError('ERR_UNKNOWN_OBSERVATION_KIND', `observation kind must be one of ${OBSERVATION_KINDS.join(', ')}, got ${String(kind)}`)
    }
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new ReputationError('ERR_BAD_OBSERVATION_COUNT', `observation count must be a positive safe integer, got ${String(count)}`)
    }
    if (observerId === this.#subject) return false
    let row = this.#counts.get(observerId)
    if (row === undefined) {
      row = new Array<number>(OBSERVATION_KINDS.length).fill(0)
      this.#counts.set(observerId, row)
    }
    const i = KIND_INDEX[kind]
    row[i] = Math.min(Number.MAX_SAFE_INTEGER, (row[i] ?? 0) + count)
    return true
  }

  /** How many observations of `kind` `observerId` has made. @example tally.count('node-B', 'spot_pass') */
  count (observerId: string, kind: ObservationKind): number {
    return this.#counts.get(observerId)?.[KIND_INDEX[kind]] ?? 0
  }

  /** The observers so far, in ascending id order. @example tally.observerIds() // ['node-B', 'node-C'] */
  observerIds (): string[] {
    return [...this.#counts.keys()].sort(byCodeUnit)
  }

  /**
   * The subject's aggregate score under the given observer standings (formulas in the file comment).
   * `observerWeight` is called once per observer, in ascending id order.
   *
   * @throws ReputationError `ERR_BAD_OBSERVER_WEIGHT` when a standing is not a finite number in [0, 1].
   * @example tally.score(id => standings.get(id) ?? 0)
   */
  score (observerWeight: ObserverWeight): ObservationScore {
    // Sums of negative evidence and of all evidence; a score is 1 − negative/mass. Written this way
    // (rather than positive/mass) every rounding step is monotone and negative <= mass term by term,
    // so the float results stay inside [0, 1] exactly as the real ones do.
    let accuracyNegative = OBSERVATION_PRIORS.accuracy.negative
    let accuracyMass = OBSERVATION_PRIORS.accuracy.positive + OBSERVATION_PRIORS.accuracy.negative
    let uptimeNegative = OBSERVATION_PRIORS.uptime.negative
    let uptimeMass = OBSERVATION_PRIORS.uptime.positive + OBSERVATION_PRIORS.uptime.negative
    let standingSum = 0
    const ids = this.observerIds()
    for (const id of ids) {
      const weight = observerWeight(id)
      assertUnitInterval(weight, 'ERR_BAD_OBSERVER_WEIGHT', `standing of observer ${id}`)
      const row = this.#counts.get(id) as number[]
      let ap = 0; let an = 0; let up = 0; let un = 0
      OBSERVATION_KINDS.forEach((kind, i) => {
        const n = row[i] ?? 0
        const { dimension, positive } = OBSERVATION_EFFECT[kind]
        if (dimension === 'accuracy') { if (positive) ap += n; else an += n } else if (positive) up += n; else un += n
      })
      if (ap + an > 0) {
        const mass = weight * observerEvidence(ap + an)
        accuracyNegative += mass * (an / (ap + an))
        accuracyMass += mass
      }
      if (up + un > 0) {
        const mass = weight * observerEvidence(up + un)
        uptimeNegative += mass * (un / (up + un))
        uptimeMass += mass
      }
      standingSum += weight
    }
    const accuracy = 1 - accuracyNegative / accuracyMass
    const uptime = 1 - uptimeNegative / uptimeMass
    return {
      accuracy,
      uptime,
      composite: accuracy * accuracy * uptime,
      confidence: 1 - 1 / (1 + standingSum),
      observers: ids.length
    }
  }
}
