/**
 * The economy's public face: money units, the contribution multiplier, task and storage prices and the
 * staking policy. Pure functions and constants over bigint micro-credits; the ledger applies them.
 *
 * @example
 * import { priceTask, applyMultiplier, slashAmount, credits } from './core/economy/index.ts'
 */
export * from './units.ts'
export { EconomyError, ECONOMY_ERROR_CODES, type EconomyErrorCode } from './errors.ts'
export * from './multiplier.ts'
export * from './prices.ts'
export * from './stake-policy.ts'
