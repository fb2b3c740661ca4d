/**
 * Reputation derived from the ledger: the `reputation` events other nodes signed about a subject,
 * each observer weighted by its own standing (seed 003; formulas in src/core/reputation/).
 *
 * Observer standing, two levels deep so it is cheap and has no cycles:
 * - level 0: 1 for a configured trusted peer, 0.5 for an observer with at least the minimum
 *   effective stake, 0.25 for anyone else (a newcomer's word counts a little);
 * - level 1: 0.5 · level0(o) + 0.5 · composite(o) · confidence(o), where o's own score is computed
 *   from the observations about o weighted at level 0. An observer others have seen behave well
 *   counts for more; one nobody has observed counts for half its level-0 weight.
 * No account can raise its own score: self-observations are refused by the chain rules and
 * ignored by the tally, and the equivocation/voiding rules drop observations of void events.
 */
import { fromKey, toKey } from '../bytes.ts'
import { ObservationTally, ReputationScore, observerStanding } from '../reputation/index.ts'
import type { ObservationKind, ObservationScore, ReputationTierName } from '../reputation/index.ts'

export interface ReputationSource {
  observationsOf (subject: Uint8Array): ReadonlyMap<string, ReadonlyMap<ObservationKind, number>>
  effectiveStakeOf (key: string): bigint
  readonly minStake: bigint
}

export interface ReputationOptions {
  /** Public keys (raw, as one-byte-per-char key strings or bytes) whose word counts fully. */
  trusted?: ReadonlySet<string>
}

/** A subject's reputation as the ledger sees it. */
export interface ReputationView extends ObservationScore {
  tier: ReputationTierName
  /** composite × (1 + 0.1·ln(1 + stake in credits)) (seed 003): what a submitter ranks workers by. */
  selectionWeight: number
}

function tallyOf (source: ReputationSource, subjectKey: string): ObservationTally {
  const tally = new ObservationTally(subjectKey)
  for (const [observer, kinds] of source.observationsOf(fromKey(subjectKey))) {
    for (const [kind, n] of kinds) if (n > 0) tally.add(observer, kind, n)
  }
  return tally
}

/**
 * Score `subject` from the observations in the ledger.
 * @example const rep = reputationOf(ledger, workerKey); rep.tier
 */
export function reputationOf (source: ReputationSource, subject: Uint8Array, options: ReputationOptions = {}): ReputationView {
  const trusted = options.trusted ?? new Set<string>()
  const level0 = (o: string): number => trusted.has(o) ? 1 : source.effectiveStakeOf(o) >= source.minStake && source.minStake > 0n ? 0.5 : 0.25
  const level1 = (o: string): number => {
    if (trusted.has(o)) return 1
    return 0.5 * level0(o) + 0.5 * observerStanding(tallyOf(source, o).score(level0))
  }
  const key = toKey(subject)
  const score = tallyOf(source, key).score(level1)
  const stake = source.effectiveStakeOf(key)
  const rep = new ReputationScore(score.accuracy, score.uptime, stake < 0n ? 0n : stake)
  return { ...score, tier: rep.tierName(), selectionWeight: score.composite * rep.stakeWeight() }
}
