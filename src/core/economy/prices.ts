/**
 * What work costs, in integer micro-credits (seed 001 §5.1 and §4.1). A submitter escrows
 * `priceTask({ type, size: maximum })` when it submits and is charged `priceTask({ type, size: used })`
 * at settlement, so both come from the same rule and the same rounding.
 *
 * Every price is a rational `priceMicro / perUnits` per unit of the type's size, evaluated in bigint and
 * rounded UP to a whole micro-credit (the worker is never paid less than the table says), then raised
 * to {@link MIN_TASK_CHARGE}, then scaled by the priority.
 */

import { EconomyError } from './errors.ts'
import { MICRO_PER_CREDIT } from './units.ts'

/** Bytes in the "MB" of seed 001's prices: a mebibyte, as seed 002 counts "1 MB" (1048576). @example BYTES_PER_MB === 1_048_576 */
export const BYTES_PER_MB = 1_048_576

/** The task types that have a price, in seed 001 §5.1's order, then federated learning. @example TASK_TYPES.includes('embedding') */
export const TASK_TYPES = [
  'vector_search',
  'vector_insert',
  'embedding',
  'semantic_match',
  'neural_inference',
  'encryption',
  'compression',
  'custom_wasm',
  'federated_round'
] as const

/** One of {@link TASK_TYPES}. @example const t: TaskType = 'vector_search' */
export type TaskType = typeof TASK_TYPES[number]

/** What a task's `size` counts. @example TASK_PRICES.encryption.unit === 'byte' */
export type TaskUnit = 'vector' | 'text' | 'query' | 'batch' | 'byte' | 'fuel' | 'participant'

/** One row of the price table. @example TASK_PRICES.embedding.priceMicro === 5_000_000n */
export interface TaskPrice {
  readonly type: TaskType
  /** What `size` counts for this type. */
  readonly unit: TaskUnit
  /** Micro-credits charged per `perUnits` units. */
  readonly priceMicro: bigint
  /** How many units `priceMicro` buys. */
  readonly perUnits: bigint
  /** The largest size one task may have; bigger jobs are split into several tasks. */
  readonly maxSize: number
  /** Seed 001 §5.1's complexity column (informs default redundancy, not price). */
  readonly complexity: 'Low' | 'Medium' | 'High'
  /** The table's own wording of the price. */
  readonly label: string
}

const credit = MICRO_PER_CREDIT
const MB = BigInt(BYTES_PER_MB)

/**
 * The price table, as data. Seed 001 §5.1, with two definitions the seed leaves open:
 *
 * - `custom_wasm` ("varies"): 1 credit per 1e9 units of fuel, where one fuel is one executed WASM
 *   instruction as the sandbox meters it (seed 001 Appendix C.3: "execution time limited with fuel
 *   metering"). Fuel, not milliseconds, because fuel is deterministic: the redundant workers of one task
 *   report the same count, so the verifier quorum can check the charge; wall time differs per machine
 *   and cannot be verified. 1e9 instructions is about one CPU-second, in line with seed 001 §4.1's
 *   "1 credit / task unit". `size` is the fuel budget (escrow) or the fuel used (settlement).
 * - `federated_round`: 9 credits per participant update, i.e. one worker's local training step on one
 *   batch plus its (compressed) model delta. A training step costs about three forward passes (forward
 *   + backward ≈ 2x forward), and a forward pass is `neural_inference` at 3 credits / batch.
 *   `size` is the number of participant updates in the round.
 *
 * @example
 * TASK_PRICES.vector_search // { unit: 'vector', priceMicro: 1_000_000n, perUnits: 1000n, ... }
 */
export const TASK_PRICES: Readonly<Record<TaskType, TaskPrice>> = Object.freeze({
  vector_search: { type: 'vector_search', unit: 'vector', priceMicro: 1n * credit, perUnits: 1000n, maxSize: 1e9, complexity: 'Low', label: '1 credit / 1K vectors' },
  vector_insert: { type: 'vector_insert', unit: 'vector', priceMicro: credit / 2n, perUnits: 100n, maxSize: 1e8, complexity: 'Low', label: '0.5 credit / 100 vectors' },
  embedding: { type: 'embedding', unit: 'text', priceMicro: 5n * credit, perUnits: 100n, maxSize: 1e7, complexity: 'Medium', label: '5 credits / 100 texts' },
  semantic_match: { type: 'semantic_match', unit: 'query', priceMicro: 1n * credit, perUnits: 10n, maxSize: 1e7, complexity: 'Low', label: '1 credit / 10 queries' },
  neural_inference: { type: 'neural_inference', unit: 'batch', priceMicro: 3n * credit, perUnits: 1n, maxSize: 1e6, complexity: 'Medium', label: '3 credits / batch' },
  encryption: { type: 'encryption', unit: 'byte', priceMicro: credit / 10n, perUnits: MB, maxSize: 2 ** 32, complexity: 'Low', label: '0.1 credit / MB' },
  compression: { type: 'compression', unit: 'byte', priceMicro: credit / 5n, perUnits: MB, maxSize: 2 ** 32, complexity: 'Low', label: '0.2 credit / MB' },
  custom_wasm: { type: 'custom_wasm', unit: 'fuel', priceMicro: 1n * credit, perUnits: 1_000_000_000n, maxSize: 1e13, complexity: 'High', label: '1 credit / 1e9 fuel' },
  federated_round: { type: 'federated_round', unit: 'participant', priceMicro: 9n * credit, perUnits: 1n, maxSize: 10_000, complexity: 'High', label: '9 credits / participant update' }
})

/** Task priorities. @example TASK_PRIORITIES[2] === 'high' */
export const TASK_PRIORITIES = ['low', 'normal', 'high'] as const

/** One of {@link TASK_PRIORITIES}. @example const p: TaskPriority = 'normal' */
export type TaskPriority = typeof TASK_PRIORITIES[number]

/**
 * Price factor per priority, in basis points (10_000 = 1x). Seed 001 §4.1: priority execution costs
 * 2x ("fast lane"). `low` costs the same as `normal` and only orders the task after normal ones: a
 * discount would cut the worker's pay for identical work and invite every submitter to mark
 * everything low, while the seed defines only the surcharge.
 *
 * @example PRIORITY_FACTOR_BPS.high === 20_000n
 */
export const PRIORITY_FACTOR_BPS: Readonly<Record<TaskPriority, bigint>> = Object.freeze({
  low: 10_000n,
  normal: 10_000n,
  high: 20_000n
})

const BPS = 10_000n

/**
 * The least a task costs before the priority factor: 0.01 credit. Every task, however small, makes the
 * network carry fixed work (a gossiped announcement, claims, a signed result, a settlement stored by
 * every replica), and the floor makes flooding expensive: 10 trial credits buy at most 1,000 tasks.
 * It equals the price of storing 1 MB for one day.
 *
 * @example MIN_TASK_CHARGE === 10_000n
 */
export const MIN_TASK_CHARGE = 10_000n

/** Storage price: 0.01 credit per MB per day (seed 001 §4.1). @example STORAGE_MICRO_PER_MB_DAY === 10_000n */
export const STORAGE_MICRO_PER_MB_DAY = 10_000n

/** Largest storage contract priced in one go: 1 TiB. @example MAX_STORAGE_BYTES === 2 ** 40 */
export const MAX_STORAGE_BYTES = 2 ** 40

/** Longest storage contract priced in one go: ten years of days. @example MAX_STORAGE_DAYS === 3650 */
export const MAX_STORAGE_DAYS = 3650

/** What {@link priceTask} prices. @example const t: TaskQuote = { type: 'embedding', size: 250, priority: 'high' } */
export interface TaskQuote {
  type: TaskType
  /** In the type's unit (see {@link TASK_PRICES}): a non-negative safe integer <= the type's maxSize. */
  size: number
  /** Default 'normal'. */
  priority?: TaskPriority
}

/** True when `type` names a priced task type. @example isTaskType('embedding') === true */
export function isTaskType (type: unknown): type is TaskType {
  return typeof type === 'string' && Object.hasOwn(TASK_PRICES, type)
}

/**
 * The price table's row for a type.
 * @throws EconomyError `ERR_UNKNOWN_TASK_TYPE`.
 * @example taskPrice('compression').label === '0.2 credit / MB'
 */
export function taskPrice (type: TaskType): TaskPrice {
  if (!isTaskType(type)) throw new EconomyError('ERR_UNKNOWN_TASK_TYPE', `no price for task type ${JSON.stringify(type)}`)
  return TASK_PRICES[type]
}

function priorityFactor (priority: unknown): bigint {
  if (typeof priority !== 'string' || !Object.hasOwn(PRIORITY_FACTOR_BPS, priority)) {
    throw new EconomyError('ERR_BAD_PRIORITY', `priority must be one of ${TASK_PRIORITIES.join(', ')}, got ${String(priority)}`)
  }
  return PRIORITY_FACTOR_BPS[priority as TaskPriority]
}

function ceilDiv (numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator
}

/**
 * The price of a task in micro-credits:
 *
 *     max(ceil(size · priceMicro / perUnits), MIN_TASK_CHARGE) · priorityFactor
 *
 * evaluated exactly in bigint (the factor is 1x or 2x, so the product stays whole).
 *
 * @throws EconomyError `ERR_UNKNOWN_TASK_TYPE`; `ERR_BAD_TASK_SIZE` for a size that is not a safe
 *   integer in [0, maxSize]; `ERR_BAD_PRIORITY`.
 * @example
 * priceTask({ type: 'vector_search', size: 1000 })                    // 1_000_000n (1 credit)
 * priceTask({ type: 'embedding', size: 100, priority: 'high' })       // 10_000_000n
 * priceTask({ type: 'encryption', size: 1 })                          // 10_000n (the minimum)
 */
export function priceTask (quote: TaskQuote): bigint {
  const row = taskPrice(quote.type)
  const { size } = quote
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > row.maxSize) {
    throw new EconomyError('ERR_BAD_TASK_SIZE', `${row.type} size must be an integer in [0, ${row.maxSize}] ${row.unit}s, got ${String(size)}`)
  }
  const factor = priorityFactor(quote.priority ?? 'normal')
  const base = ceilDiv(BigInt(size) * row.priceMicro, row.perUnits)
  const floored = base > MIN_TASK_CHARGE ? base : MIN_TASK_CHARGE
  return floored * factor / BPS
}

/**
 * The price of storing `bytes` for `days` (seed 001 §4.1: 0.01 credit / MB / day), rounded up to a
 * whole micro-credit; nothing stored or zero days costs 0 (storage has no minimum: it is billed as a
 * contract, not as a task, and any non-zero contract costs at least 1 micro by the rounding).
 *
 * @throws EconomyError `ERR_BAD_STORAGE_SIZE` for bytes or days that are not safe integers in
 *   [0, MAX_STORAGE_BYTES] / [0, MAX_STORAGE_DAYS].
 * @example
 * priceStorage(1_048_576, 30)   // 300_000n (0.3 credit)
 * priceStorage(1, 1)            // 1n
 */
export function priceStorage (bytes: number, days: number): bigint {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_STORAGE_BYTES) {
    throw new EconomyError('ERR_BAD_STORAGE_SIZE', `storage bytes must be an integer in [0, ${MAX_STORAGE_BYTES}], got ${String(bytes)}`)
  }
  if (typeof days !== 'number' || !Number.isSafeInteger(days) || days < 0 || days > MAX_STORAGE_DAYS) {
    throw new EconomyError('ERR_BAD_STORAGE_SIZE', `storage days must be an integer in [0, ${MAX_STORAGE_DAYS}], got ${String(days)}`)
  }
  return ceilDiv(BigInt(bytes) * BigInt(days) * STORAGE_MICRO_PER_MB_DAY, MB)
}
