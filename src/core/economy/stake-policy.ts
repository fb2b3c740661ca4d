/**
 * Staking policy: how much a worker must lock to take part, how much it risks per claim, how long its
 * stake stays locked after it asks for it back, and how much of it a proven offence costs. Pure
 * constants and integer functions; the ledger's stake view applies them to `stake`, `unstake` and
 * `slash` events.
 */

import { EconomyError, assertMicroAmount } from './errors.ts'
import { MICRO_PER_CREDIT } from './units.ts'

/**
 * Minimum stake to claim tasks: 100 credits (seed 001 §4.4: "new nodes must stake 100 credits to
 * participate"; it makes identities cost something, against sybils).
 * @example DEFAULT_MIN_STAKE === 100_000_000n
 */
export const DEFAULT_MIN_STAKE = 100n * MICRO_PER_CREDIT

/**
 * Stake put at risk by one claim: 10 credits (seed 001 §5.2's claim: `stake: 10, // Credits at risk`).
 * A worker with the minimum stake can therefore hold at most 10 claims at once.
 * @example DEFAULT_STAKE_PER_CLAIM === 10_000_000n
 */
export const DEFAULT_STAKE_PER_CLAIM = 10n * MICRO_PER_CREDIT

/**
 * How long minted rewards stay locked before they can move: 1 hour (seed 001 §4.4 "delayed reward
 * payout (1 hour lock)").
 * @example DEFAULT_REWARD_LOCK_MS === 3_600_000
 */
export const DEFAULT_REWARD_LOCK_MS = 60 * 60 * 1000

/**
 * How long stake stays locked (and slashable) after an `unstake`: 24 hours. It must outlast the window
 * in which an offence can still come to light, or a cheater would withdraw before its evidence
 * arrives: the 1-hour reward lock covers verification of ordinary tasks, but equivocation made on two
 * sides of a network partition is only discovered when the partition heals, which can take far longer
 * than an hour. A day covers an overnight outage of a browser-heavy network while keeping honest
 * workers' money reachable the next day.
 * @example DEFAULT_UNSTAKE_LOCK_MS === 86_400_000
 */
export const DEFAULT_UNSTAKE_LOCK_MS = 24 * 60 * 60 * 1000

/**
 * Why a stake is slashed (seed 000's `SlashReason`).
 * @example SLASH_REASONS.includes('DoubleSpend')
 */
export const SLASH_REASONS = ['InvalidResult', 'DoubleSpend', 'SybilAttack', 'Downtime', 'Spam', 'Malicious'] as const

/** One of {@link SLASH_REASONS}. @example const r: SlashReason = 'Spam' */
export type SlashReason = typeof SLASH_REASONS[number]

/** Severities, mildest first. @example SLASH_SEVERITIES[3] === 'Critical' */
export const SLASH_SEVERITIES = ['Low', 'Medium', 'High', 'Critical'] as const

/** One of {@link SLASH_SEVERITIES}. @example const s: SlashSeverity = 'High' */
export type SlashSeverity = typeof SLASH_SEVERITIES[number]

/**
 * Severity of each reason, as seed 000's table gives it.
 * @example SLASH_SEVERITY.SybilAttack === 'Critical'
 */
export const SLASH_SEVERITY: Readonly<Record<SlashReason, SlashSeverity>> = Object.freeze({
  InvalidResult: 'Medium',
  DoubleSpend: 'High',
  SybilAttack: 'Critical',
  Downtime: 'Low',
  Spam: 'Medium',
  Malicious: 'Critical'
})

/**
 * Fraction of the stake each severity takes, in basis points (10_000 = all of it):
 *
 * - Low 5%: downtime is usually a closed laptop lid, not malice; it should sting, repeated, without
 *   ruining an honest but flaky volunteer (twenty outages to lose ~64%).
 * - Medium 20%: a wrong result or spam. With the minimum stake (100 credits) that is 20 credits, twice
 *   the 10 credits a claim puts at risk and more than a task of ordinary size pays, so cheating
 *   does not pay once it is caught even one time in five (seed 001's spot-checks: 10% of tasks, plus
 *   redundancy).
 * - High 50%: double spending. The ledger voids both equivocating events anyway, so the offence
 *   gains nothing; half the stake makes the attempt costly without ending a node that forked its
 *   chain by a crash-restore bug.
 * - Critical 100%: sybil identities and proven malice: there is no honest explanation to protect.
 *
 * @example SLASH_FRACTION_BPS.Medium === 2_000n
 */
export const SLASH_FRACTION_BPS: Readonly<Record<SlashSeverity, bigint>> = Object.freeze({
  Low: 500n,
  Medium: 2_000n,
  High: 5_000n,
  Critical: 10_000n
})

const BPS = 10_000n

/** True when `reason` is one of {@link SLASH_REASONS}. @example isSlashReason('Spam') === true */
export function isSlashReason (reason: unknown): reason is SlashReason {
  return typeof reason === 'string' && Object.hasOwn(SLASH_SEVERITY, reason)
}

/**
 * How much of `stake` (micro-credits) a slash for `reason` takes:
 * floor(stake · SLASH_FRACTION_BPS[severity] / 10_000). Never negative, never more than the stake.
 *
 * @throws EconomyError `ERR_BAD_MICRO_AMOUNT` (stake not a bigint >= 0), `ERR_UNKNOWN_SLASH_REASON`.
 * @example
 * slashAmount(100_000_000n, 'InvalidResult')  // 20_000_000n
 * slashAmount(100_000_000n, 'Malicious')      // 100_000_000n
 */
export function slashAmount (stake: bigint, reason: SlashReason): bigint {
  assertMicroAmount(stake, 'stake')
  if (!isSlashReason(reason)) {
    throw new EconomyError('ERR_UNKNOWN_SLASH_REASON', `slash reason must be one of ${SLASH_REASONS.join(', ')}, got ${String(reason)}`)
  }
  return stake * SLASH_FRACTION_BPS[SLASH_SEVERITY[reason]] / BPS
}

/** How a slashed amount is shared out. @example const { shares, burned } = splitSlash(10n, ['a', 'b', 'c']) */
export interface SlashSplit {
  /** Each honest co-worker's share, keyed by id, in ascending id order. */
  readonly shares: Map<string, bigint>
  /** What nobody receives: the remainder of the equal division, or everything with no co-workers. */
  readonly burned: bigint
}

/**
 * Share a slashed amount among the honest co-workers of the task that exposed the offence: each gets
 * floor(amount / n), the remainder (< n micro-credits) is burned, and with no co-workers all of it is
 * burned. Conservation is exact: sum(shares) + burned === amount. Rewarding the workers who produced
 * the majority result pays for honest verification; burning the rest (rather than giving it to, say,
 * the submitter) leaves nobody a reason to provoke slashes. The result does not depend on the order of
 * `honestCoWorkers` (the map is built in ascending id order).
 *
 * @throws EconomyError `ERR_BAD_MICRO_AMOUNT`; `ERR_BAD_CO_WORKERS` for an empty or duplicate id.
 * @example
 * splitSlash(20_000_000n, ['w2', 'w1', 'w3'])
 * // { shares: Map { 'w1' => 6_666_666n, 'w2' => 6_666_666n, 'w3' => 6_666_666n }, burned: 2n }
 */
export function splitSlash (amount: bigint, honestCoWorkers: readonly string[]): SlashSplit {
  assertMicroAmount(amount, 'slashed amount')
  if (!Array.isArray(honestCoWorkers)) {
    throw new EconomyError('ERR_BAD_CO_WORKERS', 'honest co-workers must be an array of ids')
  }
  const seen = new Set<string>()
  for (const id of honestCoWorkers) {
    if (typeof id !== 'string' || id === '') throw new EconomyError('ERR_BAD_CO_WORKERS', `co-worker id must be a non-empty string, got ${String(id)}`)
    if (seen.has(id)) throw new EconomyError('ERR_BAD_CO_WORKERS', `co-worker ${id} is listed twice`)
    seen.add(id)
  }
  const ids = [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const shares = new Map<string, bigint>()
  if (ids.length === 0) return { shares, burned: amount }
  const share = amount / BigInt(ids.length)
  for (const id of ids) shares.set(id, share)
  return { shares, burned: amount - share * BigInt(ids.length) }
}

/**
 * Trial credits granted once per identity, after its proof of work: 10 credits. Seed 002 grants
 * 1000 Joules, "enough for initial exploration", about 66 of its 15-Joule storage operations. Here
 * 10 credits buy the same kind of exploration (200 embedded texts, 10K vectors searched, or 33
 * months of storing 1 MB) and at most 1,000 minimum-price tasks, which bounds what a farm of
 * proof-of-work sybils can make the network do for free. Trial credits are spend-only and
 * non-transferable (ARCHITECTURE.md), so this is also the most any single identity can draw from them.
 * @example TRIAL_CREDITS === 10_000_000n
 */
export const TRIAL_CREDITS = 10n * MICRO_PER_CREDIT
