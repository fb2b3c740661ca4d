/**
 * A node's reputation as one number, kept with seed 000's `ReputationScore` API:
 *
 *     composite  = accuracy² · uptime                      in [0, 1], the track record
 *     stakeWeight = 1 + 0.1 · ln(1 + stake in credits)     >= 1, seed 003's amplifier
 *     selection  = composite · stakeWeight                 what a submitter ranks workers by
 *
 * Stake is kept out of the composite (ARCHITECTURE.md "Reputation"): the composite decides the tier,
 * so money cannot buy a tier; stake only amplifies the selection weight, logarithmically, so track
 * record dominates. Doubling a weight by stake alone takes e^10 − 1 ≈ 22,025 credits, tripling it
 * e^20 − 1 ≈ 4.85e8 credits.
 *
 * Accuracy and uptime are posterior means with priors, so a newcomer is neither zero nor perfect:
 *
 *     accuracy = (1 + completed) / (2 + completed + failed)            Beta(1,1), Laplace's rule
 *     uptime   = (3600 + upSeconds) / (3600 + totalSeconds)            one presumed hour up
 *
 * A fresh identity has accuracy 0.5 (seed 002's neutral reputation), uptime 1, composite 0.25: tier
 * Restricted, selection weight 0.25 (not zero), so it gets basic, redundantly-executed tasks and climbs
 * by its record (BOINC adaptive replication). Uptime starts at 1 because absence of evidence of
 * downtime is not evidence of it (seed 003: silence is coverage, not a "no").
 *
 * Floats: scores are for ranking and tiers, never for balances. `ln` is `Math.log1p`, which may differ
 * in the last ulp between engines; a replicated decision should compare tiers or round first.
 */

import { creditsAsNumber } from '../economy/units.ts'
import { ReputationError, assertUnitInterval } from './errors.ts'

/** Tier names, best first. @example REPUTATION_TIER_NAMES[0] === 'Elite' */
export const REPUTATION_TIER_NAMES = ['Elite', 'Trusted', 'Standard', 'Probation', 'Restricted'] as const

/** One of {@link REPUTATION_TIER_NAMES}. @example const t: ReputationTierName = 'Trusted' */
export type ReputationTierName = typeof REPUTATION_TIER_NAMES[number]

/** A tier and the least composite score that earns it. @example REPUTATION_TIERS[1] // { name: 'Trusted', minScore: 0.85 } */
export interface ReputationTier { readonly name: ReputationTierName, readonly minScore: number }

/**
 * The tiers, best first (seed 000 / ARCHITECTURE.md): Elite >= 0.95, Trusted >= 0.85,
 * Standard >= 0.70, Probation >= 0.50, Restricted below.
 * @example REPUTATION_TIERS.find(t => 0.9 >= t.minScore)?.name === 'Trusted'
 */
export const REPUTATION_TIERS: readonly ReputationTier[] = Object.freeze([
  { name: 'Elite', minScore: 0.95 },
  { name: 'Trusted', minScore: 0.85 },
  { name: 'Standard', minScore: 0.70 },
  { name: 'Probation', minScore: 0.50 },
  { name: 'Restricted', minScore: 0 }
] as const)

/**
 * The tier of a composite score (boundaries inclusive).
 * @throws ReputationError `ERR_BAD_SCORE` unless the score is a finite number in [0, 1].
 * @example reputationTier(0.95) === 'Elite'; reputationTier(0.4999) === 'Restricted'
 */
export function reputationTier (score: number): ReputationTierName {
  assertUnitInterval(score, 'ERR_BAD_SCORE', 'composite score')
  for (const tier of REPUTATION_TIERS) if (score >= tier.minScore) return tier.name
  return 'Restricted'
}

/** Beta(1,1) prior of accuracy: one pseudo-success and one pseudo-failure. @example ACCURACY_PRIOR.weight === 2 */
export const ACCURACY_PRIOR = Object.freeze({ mean: 0.5, weight: 2 })

/** Prior of uptime: one presumed hour online. @example UPTIME_PRIOR.seconds === 3600 */
export const UPTIME_PRIOR = Object.freeze({ mean: 1, seconds: 3600 })

/**
 * Evidence behind an accuracy given directly to the constructor, in pseudo-tasks: 10, so the stated
 * value holds until about ten real outcomes have been recorded on top of it.
 * @example DIRECT_ACCURACY_WEIGHT === 10
 */
export const DIRECT_ACCURACY_WEIGHT = 10

/** Evidence behind an uptime given directly to the constructor: one day. @example DIRECT_UPTIME_SECONDS === 86_400 */
export const DIRECT_UPTIME_SECONDS = 86_400

/** Coefficient of seed 003's stake amplifier 1 + 0.1·ln(1 + stake). @example STAKE_WEIGHT_COEFFICIENT === 0.1 */
export const STAKE_WEIGHT_COEFFICIENT = 0.1

/** The serialized form of a {@link ReputationScore}; bigints as decimal strings. @example const j: ReputationScoreJSON = score.toJSON() */
export interface ReputationScoreJSON {
  v: 1
  accuracyPrior: { mean: number, weight: number }
  tasksCompleted: string
  tasksFailed: string
  uptimePrior: { mean: number, seconds: number }
  uptimeSeconds: string
  totalSeconds: string
  stake: string
}

function assertStake (stake: unknown): asserts stake is bigint {
  if (typeof stake !== 'bigint' || stake < 0n) {
    throw new ReputationError('ERR_BAD_STAKE', `stake must be a bigint >= 0 micro-credits, got ${String(stake)}`)
  }
}

function assertCount (count: unknown, what: string): asserts count is bigint {
  if (typeof count !== 'bigint' || count < 0n) {
    throw new ReputationError('ERR_BAD_TASK_COUNT', `${what} must be a bigint >= 0, got ${String(count)}`)
  }
}

function assertSeconds (up: unknown, total: unknown): asserts up is bigint {
  if (typeof up !== 'bigint' || typeof total !== 'bigint' || up < 0n || total < 0n || up > total) {
    throw new ReputationError('ERR_BAD_UPTIME', `uptime seconds must be bigints with 0 <= up <= total, got ${String(up)} of ${String(total)}`)
  }
}

/**
 * A node's reputation: accuracy and uptime with priors, and its stake (micro-credits).
 *
 * @example
 * const rep = ReputationScore.newWithTracking(950n, 50n, BigInt(30 * 86400), BigInt(31 * 86400), 5_000_000_000n)
 * rep.recordSuccess()
 * rep.compositeScore() // ≈ 0.872
 * rep.tierName()       // 'Trusted'
 */
export class ReputationScore {
  #accuracyMean: number
  #accuracyWeight: number
  #completed = 0n
  #failed = 0n
  #uptimeMean: number
  #uptimeWeight: number
  #upSeconds = 0n
  #totalSeconds = 0n
  #stake: bigint

  /**
   * A score from a stated accuracy and uptime (seed 000's `new(accuracy, uptime, stake)`), each backed
   * by {@link DIRECT_ACCURACY_WEIGHT} pseudo-tasks / {@link DIRECT_UPTIME_SECONDS} so that recorded
   * outcomes move it gradually. `stake` is in micro-credits.
   * @throws ReputationError `ERR_BAD_ACCURACY`, `ERR_BAD_UPTIME`, `ERR_BAD_STAKE`.
   * @example new ReputationScore(0.95, 0.98, 1_000_000_000n).compositeScore() // ≈ 0.8845
   */
  constructor (accuracy: number, uptime: number, stake: bigint) {
    assertUnitInterval(accuracy, 'ERR_BAD_ACCURACY', 'accuracy')
    assertUnitInterval(uptime, 'ERR_BAD_UPTIME', 'uptime')
    assertStake(stake)
    this.#accuracyMean = accuracy
    this.#accuracyWeight = DIRECT_ACCURACY_WEIGHT
    this.#uptimeMean = uptime
    this.#uptimeWeight = DIRECT_UPTIME_SECONDS
    this.#stake = stake
  }

  /**
   * A score from counted outcomes and seconds online (seed 000's `newWithTracking`), with the
   * Beta(1,1) accuracy prior and the one-hour uptime prior.
   * @throws ReputationError `ERR_BAD_TASK_COUNT`, `ERR_BAD_UPTIME` (negative, or up > total), `ERR_BAD_STAKE`.
   * @example ReputationScore.newWithTracking(0n, 0n, 0n, 0n, 0n).compositeScore() === 0.25
   */
  static newWithTracking (tasksCompleted: bigint, tasksFailed: bigint, uptimeSeconds: bigint, totalSeconds: bigint, stake: bigint): ReputationScore {
    assertCount(tasksCompleted, 'tasksCompleted')
    assertCount(tasksFailed, 'tasksFailed')
    assertSeconds(uptimeSeconds, totalSeconds)
    assertStake(stake)
    const score = new ReputationScore(ACCURACY_PRIOR.mean, UPTIME_PRIOR.mean, stake)
    score.#accuracyWeight = ACCURACY_PRIOR.weight
    score.#uptimeWeight = UPTIME_PRIOR.seconds
    score.#completed = tasksCompleted
    score.#failed = tasksFailed
    score.#upSeconds = uptimeSeconds
    score.#totalSeconds = totalSeconds
    return score
  }

  /**
   * A fresh identity: no outcomes, no time observed. Accuracy 0.5, uptime 1, composite 0.25.
   * @example ReputationScore.newcomer().selectionWeight() === 0.25
   */
  static newcomer (stake: bigint = 0n): ReputationScore {
    return ReputationScore.newWithTracking(0n, 0n, 0n, 0n, stake)
  }

  /** Record a verified task. @example rep.recordSuccess() */
  recordSuccess (): void { this.#completed += 1n }

  /** Record a failed or mismatched task. @example rep.recordFailure() */
  recordFailure (): void { this.#failed += 1n }

  /**
   * Record `upSeconds` online out of `elapsedSeconds` observed.
   * @throws ReputationError `ERR_BAD_UPTIME` unless 0 <= up <= elapsed (bigints).
   * @example rep.recordUptime(3500n, 3600n)
   */
  recordUptime (upSeconds: bigint, elapsedSeconds: bigint): void {
    assertSeconds(upSeconds, elapsedSeconds)
    this.#upSeconds += upSeconds
    this.#totalSeconds += elapsedSeconds
  }

  /** Posterior mean accuracy in [0, 1]: (prior·weight + completed) / (weight + completed + failed). @example ReputationScore.newcomer().accuracy() === 0.5 */
  accuracy (): number {
    const n = this.#completed + this.#failed
    if (n === 0n) return this.#accuracyMean
    return (this.#accuracyMean * this.#accuracyWeight + Number(this.#completed)) / (this.#accuracyWeight + Number(n))
  }

  /** Posterior mean uptime in [0, 1]: (prior·seconds + up) / (seconds + total). @example ReputationScore.newcomer().uptime() === 1 */
  uptime (): number {
    if (this.#totalSeconds === 0n) return this.#uptimeMean
    return (this.#uptimeMean * this.#uptimeWeight + Number(this.#upSeconds)) / (this.#uptimeWeight + Number(this.#totalSeconds))
  }

  /** Stake in micro-credits. @example new ReputationScore(1, 1, 5n).stake() === 5n */
  stake (): bigint { return this.#stake }

  /** Tasks recorded as completed (not counting the prior). @example rep.tasksCompleted() */
  tasksCompleted (): bigint { return this.#completed }

  /** Tasks recorded as failed (not counting the prior). @example rep.tasksFailed() */
  tasksFailed (): bigint { return this.#failed }

  /** accuracy² · uptime, in [0, 1]; stake plays no part. @example new ReputationScore(0.9, 1, 0n).compositeScore() // 0.81 */
  compositeScore (): number {
    const accuracy = this.accuracy()
    return accuracy * accuracy * this.uptime()
  }

  /** 1 + 0.1·ln(1 + stake in credits) (seed 003), >= 1; 1 with no stake. @example new ReputationScore(1, 1, 0n).stakeWeight() === 1 */
  stakeWeight (): number {
    return 1 + STAKE_WEIGHT_COEFFICIENT * Math.log1p(creditsAsNumber(this.#stake))
  }

  /** compositeScore() · stakeWeight(): how strongly a submitter prefers this worker. @example ReputationScore.newcomer().selectionWeight() > 0 */
  selectionWeight (): number {
    return this.compositeScore() * this.stakeWeight()
  }

  /** The tier of the composite score. @example new ReputationScore(1, 0.95, 0n).tierName() === 'Elite' */
  tierName (): ReputationTierName {
    return reputationTier(this.compositeScore())
  }

  /**
   * True when accuracy, uptime and stake are each at least the given minimum.
   * @throws ReputationError `ERR_BAD_ACCURACY`, `ERR_BAD_UPTIME`, `ERR_BAD_STAKE` for malformed minimums.
   * @example rep.meetsMinimum(0.9, 0.95, 100_000_000n)
   */
  meetsMinimum (minAccuracy: number, minUptime: number, minStake: bigint): boolean {
    assertUnitInterval(minAccuracy, 'ERR_BAD_ACCURACY', 'minimum accuracy')
    assertUnitInterval(minUptime, 'ERR_BAD_UPTIME', 'minimum uptime')
    assertStake(minStake)
    return this.accuracy() >= minAccuracy && this.uptime() >= minUptime && this.#stake >= minStake
  }

  /**
   * True when this score's track record (composite) is strictly better than `other`'s. Stake does not
   * enter: ranking *for selection* is `selectionWeight()`.
   * @example new ReputationScore(0.95, 1, 0n).isBetterThan(new ReputationScore(0.9, 1, 10n ** 12n)) === true
   */
  isBetterThan (other: ReputationScore): boolean {
    return this.compositeScore() > other.compositeScore()
  }

  /** A copy with a different stake (e.g. after a stake, unstake or slash event). @example rep.withStake(0n) */
  withStake (stake: bigint): ReputationScore {
    assertStake(stake)
    const copy = ReputationScore.fromJSON(this.toJSON())
    copy.#stake = stake
    return copy
  }

  /** Serialize; `fromJSON(toJSON())` gives an equal score. @example JSON.stringify(rep) */
  toJSON (): ReputationScoreJSON {
    return {
      v: 1,
      accuracyPrior: { mean: this.#accuracyMean, weight: this.#accuracyWeight },
      tasksCompleted: this.#completed.toString(),
      tasksFailed: this.#failed.toString(),
      uptimePrior: { mean: this.#uptimeMean, seconds: this.#uptimeWeight },
      uptimeSeconds: this.#upSeconds.toString(),
      totalSeconds: this.#totalSeconds.toString(),
      stake: this.#stake.toString()
    }
  }

  /**
   * Rebuild a score from {@link ReputationScore.toJSON}'s output (or its `JSON.parse`d text).
   * @throws ReputationError `ERR_BAD_REPUTATION_JSON` for anything `toJSON` cannot have produced.
   * @example ReputationScore.fromJSON(JSON.parse(JSON.stringify(rep)))
   */
  static fromJSON (json: unknown): ReputationScore {
    try {
      const j = json as ReputationScoreJSON
      if (typeof j !== 'object' || j === null || j.v !== 1) throw new Error('not a version-1 reputation score')
      const accuracyWeight = positiveFinite(j.accuracyPrior?.weight, 'accuracyPrior.weight')
      const uptimeWeight = positiveFinite(j.uptimePrior?.seconds, 'uptimePrior.seconds')
      const score = new ReputationScore(j.accuracyPrior.mean, j.uptimePrior.mean, parseNatural(j.stake, 'stake'))
      const completed = parseNatural(j.tasksCompleted, 'tasksCompleted')
      const failed = parseNatural(j.tasksFailed, 'tasksFailed')
      const up = parseNatural(j.uptimeSeconds, 'uptimeSeconds')
      const total = parseNatural(j.totalSeconds, 'totalSeconds')
      assertSeconds(up, total)
      score.#accuracyWeight = accuracyWeight
      score.#uptimeWeight = uptimeWeight
      score.#completed = completed
      score.#failed = failed
      score.#upSeconds = up
      score.#totalSeconds = total
      return score
    } catch (cause) {
      throw new ReputationError('ERR_BAD_REPUTATION_JSON', `not a serialized ReputationScore: ${(cause as Error).message}`, { cause })
    }
  }
}

function parseNatural (text: unknown, what: string): bigint {
  if (typeof text !== 'string' || !/^(0|[1-9][0-9]*)$/.test(text)) throw new Error(`${what} must be a decimal natural number string`)
  return BigInt(text)
}

function positiveFinite (value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new Error(`${what} must be a finite number > 0`)
  return value
}
