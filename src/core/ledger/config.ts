import { DEFAULT_MIN_STAKE, DEFAULT_REWARD_LOCK_MS, DEFAULT_UNSTAKE_LOCK_MS, TRIAL_CREDITS } from '../economy/index.ts'

/** The rules one network agrees on. Every replica of a network must use the same values. */
export interface LedgerConfig {
  /** Network id, inside every signed byte string (domain separation). */
  networkId: string
  /** Stake a worker needs before it can mint a reward (seed 001 §4.4: 100 credits). */
  minStake: bigint
  /** Time after staking or delegating before it can be withdrawn. */
  stakeLockMs: number
  /** Time before minted rewards can move (seed 001 §4.4: 1 hour). */
  rewardLockMs: number
  /** Trial credits a new identity may claim once, with proof of work (seed 002). */
  trialCredits: bigint
  /** Leading zero bits the trial proof of work needs (each bit doubles its cost). */
  trialDifficulty: number
  /** Distinct worker signatures a settlement certificate or slash attestation needs. */
  quorum: number
  /** The contribution curve (seed 001 §4.2). */
  multiplier: { max: number, decay: number }
  /** Bound of the pending pool (events waiting for a dependency), in events. */
  maxPending: number
  /** Events dated further than this past the local clock are refused for now (ERR_FUTURE_EVENT). */
  maxFutureSkewMs: number
  /**
   * Credits that exist when the network starts, by raw public key. Minting needs stake and stake
   * needs real credits, so a network's first stakers are funded here; every replica of a network
   * must start from the same genesis.
   */
  genesis: ReadonlyArray<{ account: Uint8Array, amount: bigint }>
}

export const DEFAULT_LEDGER_CONFIG: Omit<LedgerConfig, 'networkId'> = {
  minStake: DEFAULT_MIN_STAKE,
  stakeLockMs: DEFAULT_UNSTAKE_LOCK_MS,
  rewardLockMs: DEFAULT_REWARD_LOCK_MS,
  trialCredits: TRIAL_CREDITS,
  trialDifficulty: 16,
  quorum: 2,
  multiplier: { max: 10, decay: 1_000_000 },
  maxPending: 10_000,
  maxFutureSkewMs: 5 * 60 * 1000,
  genesis: []
}

/** Fill in defaults. @example ledgerConfig({ networkId: 'test', trialDifficulty: 4 }) */
export function ledgerConfig (init: Partial<LedgerConfig> & { networkId: string }): LedgerConfig {
  return { ...DEFAULT_LEDGER_CONFIG, ...init }
}
