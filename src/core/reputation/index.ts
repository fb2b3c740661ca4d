/**
 * Reputation's public face: the composite score and tiers (`ReputationScore`, seed 000's API) and the
 * rule that folds signed observations by other nodes into it (`ObservationTally`, seed 003).
 *
 * @example
 * import { ReputationScore, ObservationTally } from './core/reputation/index.ts'
 */
export { ReputationError, REPUTATION_ERROR_CODES, type ReputationErrorCode } from './errors.ts'
export * from './score.ts'
export * from './observations.ts'
