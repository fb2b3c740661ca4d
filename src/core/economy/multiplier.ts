/**
 * The contribution multiplier: early contributors earn more per unit of work, and the bonus decays
 * smoothly as the network accumulates compute-hours (seed 001 §4.2 and Appendix A):
 *
 *     R(H) = 1 + (M − 1) · e^(−H / D)        M = 10, D = 1,000,000 network CPU-hours
 *
 * R(0) = M, R(D) = 1 + 9/e ≈ 4.311, R(2D) ≈ 2.218, R → 1 as H → ∞, never below 1.
 *
 * Two views of the same curve:
 * - {@link contributionMultiplier} is the float, for display, charts and planning.
 * - {@link multiplierPpb} / {@link applyMultiplier} are what money uses: the multiplier as an exact
 *   integer number of parts per billion, computed WITHOUT any transcendental float function, so that
 *   every replica mints exactly the same bigint.
 *
 * Why not `Math.round(Math.exp(−x) · 1e9)`: ECMAScript lets `Math.exp` be "implementation-approximated"
 * (ECMA-262 §21.3.2.14), so V8, SpiderMonkey and JavaScriptCore may differ in the last ulp. Rounding to
 * 1e-9 absorbs such a difference almost always (an ulp of a value near 10 is ~1.8e-15, a million times
 * finer than 1e-9), but not always: when the exact value lies within an ulp of a rounding half-way point
 * two engines whose exp differs there round to different integers, and two replicas then disagree
 * about a balance. The exact value lands that close to a half-way point for roughly one H in a few
 * hundred thousand: rare enough to escape every test, common enough to split a long-lived network. So the money path uses only IEEE-754 basic operations
 * (`/`, `*`, `Math.round`, which are correctly rounded and therefore identical on every engine) to
 * quantize x = H/D to 1e-14, and then evaluates e^(−x) in bigint fixed point (1e-30) by a Taylor series.
 * The result agrees with the float curve to within 0.5 ppb + 1e-19 and is bit-for-bit replica-stable.
 */

import { EconomyError } from './errors.ts'

/** Seed 001 §4.2: genesis contributors earn up to 10x. @example DEFAULT_MAX_MULTIPLIER === 10 */
export const DEFAULT_MAX_MULTIPLIER = 10

/**
 * Seed 001 §4.2 / Appendix A: the decay constant D in network CPU-hours. (Seed 000 uses 100,000; we
 * follow the later, product-level seed 001 and keep D an option.)
 * @example DEFAULT_DECAY_HOURS === 1_000_000
 */
export const DEFAULT_DECAY_HOURS = 1_000_000

/** The largest `max` accepted: keeps (max − 1)·1e9 an exact float integer. @example MAX_CURVE_MAX === 1_000_000 */
export const MAX_CURVE_MAX = 1_000_000

/** Fixed-point scale of {@link multiplierPpb}: parts per billion. @example MULTIPLIER_SCALE === 1_000_000_000n */
export const MULTIPLIER_SCALE = 1_000_000_000n

/** Options of the contribution curve. @example const curve: CurveOptions = { max: 10, decay: 100_000 } */
export interface CurveOptions {
  /** Multiplier at zero network hours; >= 1 and <= {@link MAX_CURVE_MAX}. Default 10. */
  max?: number
  /** Decay constant D in CPU-hours; finite and > 0. Default 1,000,000. */
  decay?: number
}

interface Curve { max: number, decay: number }

function resolveCurve (options: CurveOptions | undefined): Curve {
  const max = options?.max ?? DEFAULT_MAX_MULTIPLIER
  const decay = options?.decay ?? DEFAULT_DECAY_HOURS
  if (typeof max !== 'number' || !Number.isFinite(max) || max < 1 || max > MAX_CURVE_MAX) {
    throw new EconomyError('ERR_BAD_CURVE', `curve max must be a finite number in [1, ${MAX_CURVE_MAX}], got ${String(max)}`)
  }
  if (typeof decay !== 'number' || !Number.isFinite(decay) || decay <= 0) {
    throw new EconomyError('ERR_BAD_CURVE', `curve decay must be a finite number > 0, got ${String(decay)}`)
  }
  return { max, decay }
}

function assertHours (hours: unknown): asserts hours is number {
  if (typeof hours !== 'number' || !Number.isFinite(hours) || hours < 0) {
    throw new EconomyError('ERR_BAD_HOURS', `network hours must be a finite number >= 0, got ${String(hours)}`)
  }
}

/**
 * The contribution multiplier as a float: `1 + (max − 1)·e^(−hours/decay)` (seed 001 §4.2).
 * For display and planning; money goes through {@link applyMultiplier}.
 *
 * @throws EconomyError `ERR_BAD_HOURS` for negative, NaN or infinite hours; `ERR_BAD_CURVE` for bad options.
 * @example
 * contributionMultiplier(0)          // 10
 * contributionMultiplier(1_000_000)  // 4.3109... (1 + 9/e)
 */
export function contributionMultiplier (networkHours: number, options?: CurveOptions): number {
  assertHours(networkHours)
  const { max, decay } = resolveCurve(options)
  return 1 + (max - 1) * Math.exp(-networkHours / decay)
}

// ---- integer-only e^(−x) -------------------------------------------------------------------------

/** Fixed point of the internal exponential: 30 decimal digits. */
const EXP_SCALE = 10n ** 30n
/** x = H/D is quantized to multiples of 1e-14 (x·1e14 <= 5e15 stays an exact float integer). */
const X_QUANTUM = 1e14
const X_QUANTUM_TO_EXP_SCALE = 10n ** 16n
/**
 * Beyond x = 50, (max − 1)·e^(−x)·1e9 <= 1e15 · 2e-22 < 0.5 ppb, so the multiplier is exactly 1.
 */
const EXP_CUTOFF = 50

/** e^f · EXP_SCALE for 0 <= f < EXP_SCALE·(a few), by the Taylor series, all terms positive. */
function expFixed (f: bigint): bigint {
  let term = EXP_SCALE
  let sum = EXP_SCALE
  for (let k = 1n; term !== 0n; k++) {
    term = term * f / (k * EXP_SCALE)
    sum += term
  }
  return sum
}

/** e^(−1) · EXP_SCALE, computed once from the series (pure; no float involved). */
const E_INVERSE = EXP_SCALE * EXP_SCALE / expFixed(EXP_SCALE)

/**
 * e^(−x) · EXP_SCALE where x = xq / 1e14. Range reduction x = n + f (n integer, 0 <= f < 1):
 * e^(−x) = (e^(−1))^n · 1/e^f. Each truncating step loses < 1e-30, so after at most 50 steps the
 * result is within 1e-28 of the exact value; the rounding to ppb below is 19 orders coarser.
 */
function expNegFixed (xq: bigint): bigint {
  const xs = xq * X_QUANTUM_TO_EXP_SCALE
  const n = xs / EXP_SCALE
  const f = xs % EXP_SCALE
  let result = EXP_SCALE * EXP_SCALE / expFixed(f)
  for (let i = 0n; i < n; i++) result = result * E_INVERSE / EXP_SCALE
  return result
}

/**
 * The contribution multiplier as an exact integer in parts per billion (1x = 1_000_000_000n),
 * rounded half up, computed with integer arithmetic only (see the file comment): the same bigint on
 * every engine and platform, for the same (hours, options).
 *
 * |multiplierPpb(h) − R(h)·1e9| <= 0.5 + 1e-10 where R is the exact real curve. Non-increasing in
 * hours, and not just in tests: x = H/D and its quantization are monotone IEEE operations, the
 * truncating series for e^f is monotone in f term by term, the chained products by e^(−1) are
 * monotone in their start value (and at an integer step n, the path through f → 1 starts no lower
 * than the path through f = 0), and the final rounding is monotone.
 *
 * @throws EconomyError `ERR_BAD_HOURS`, `ERR_BAD_CURVE`.
 * @example
 * multiplierPpb(0)           // 10_000_000_000n
 * multiplierPpb(1_000_000)   // 4_310_914_971n   (1 + 9/e)
 */
export function multiplierPpb (networkHours: number, options?: CurveOptions): bigint {
  assertHours(networkHours)
  const { max, decay } = resolveCurve(options)
  // (max − 1)·1e9: an IEEE product and Math.round, identical on every engine; exact for the
  // max values anyone writes (10, 5, 2.5), and deterministic for every other.
  const bonusPpb = BigInt(Math.round((max - 1) * 1e9))
  const x = networkHours / decay
  if (x > EXP_CUTOFF) return MULTIPLIER_SCALE
  const xq = BigInt(Math.round(x * X_QUANTUM))
  const bonus = (bonusPpb * expNegFixed(xq) + EXP_SCALE / 2n) / EXP_SCALE
  return MULTIPLIER_SCALE + bonus
}

/**
 * Scale a base reward by the contribution multiplier: floor(base · multiplierPpb / 1e9), in integer
 * arithmetic, so every replica derives the same minted amount. Monotone in `baseMicro`, and
 * non-increasing in `networkHours`. For base <= 1e9 micro it is within 1 micro of
 * floor(base · contributionMultiplier(hours)).
 *
 * @throws EconomyError `ERR_BAD_MICRO_AMOUNT` (base not a bigint >= 0), `ERR_BAD_HOURS`, `ERR_BAD_CURVE`.
 * @example
 * applyMultiplier(1_000_000n, 0)          // 10_000_000n (1 credit at genesis mints 10)
 * applyMultiplier(1_000_000n, 1_000_000)  // 4_310_914n
 */
export function applyMultiplier (baseMicro: bigint, networkHours: number, options?: CurveOptions): bigint {
  if (typeof baseMicro !== 'bigint' || baseMicro < 0n) {
    throw new EconomyError('ERR_BAD_MICRO_AMOUNT', `base reward must be a non-negative bigint, got ${String(baseMicro)}`)
  }
  return baseMicro * multiplierPpb(networkHours, options) / MULTIPLIER_SCALE
}

// ---- named stages of the curve -------------------------------------------------------------------

/**
 * Names of the curve's stages, earliest first. @example CURVE_STAGE_NAMES[0] === 'Genesis'
 */
export const CURVE_STAGE_NAMES = ['Genesis', 'Pioneer', 'Early', 'Maturing', 'Established', 'Baseline'] as const

/** One of {@link CURVE_STAGE_NAMES}. @example const s: CurveStageName = 'Pioneer' */
export type CurveStageName = typeof CURVE_STAGE_NAMES[number]

/**
 * Where each stage starts, as a fraction of the decay constant D.
 *
 * Reconciling the seeds: seed 001's table names the stages at 0, 100K, 500K, 1M, 5M and 10M CPU-hours
 * with D = 1M ("Genesis", "still very early", "early majority joining", "network maturing",
 * "established network", "baseline rewards"), i.e. at 0, 0.1D, 0.5D, D, 5D and 10D. Seed 000 uses
 * D = 100K and says get_tier_name(25,000) is "Pioneer": 25K is 0.25D there, which falls in
 * [0.1D, 0.5D), the second stage of seed 001's table. Defining the stages as fractions of D, i.e. by
 * position on the curve (equivalently by multiplier band: 10x, <= 9.14x, <= 6.46x, <= 4.31x,
 * <= 1.06x, <= 1.0004x), makes both seeds' examples hold under their own D:
 * getTierName(25_000, { decay: 100_000 }) === 'Pioneer', getTierName(250_000) === 'Pioneer'.
 * Names come from seed 001's "Meaning" column. (Seed 001's multiplier column, 6.1/4.0/1.4, is a
 * rounded sketch; the formula gives 6.46/4.31/1.06 and the formula is what we implement.)
 */
const STAGE_DECAY_FRACTIONS: Readonly<Record<CurveStageName, number>> = {
  Genesis: 0,
  Pioneer: 0.1,
  Early: 0.5,
  Maturing: 1,
  Established: 5,
  Baseline: 10
}

/** A stage of the contribution curve, as data for docs and the dashboard. @example getTiers()[1].name === 'Pioneer' */
export interface CurveStage {
  readonly name: CurveStageName
  /** First network hour of the stage (inclusive). */
  readonly fromHours: number
  /** First hour of the next stage (exclusive); null for the last stage, which is unbounded. */
  readonly toHours: number | null
  /** Start of the stage as a fraction of the decay constant. */
  readonly decayFraction: number
  /** The float multiplier at `fromHours`. */
  readonly multiplier: number
  /** The exact multiplier at `fromHours` in ppb, as {@link multiplierPpb} gives it. */
  readonly multiplierPpb: bigint
}

/**
 * The curve's stages as data, for the given curve (default seed 001's).
 *
 * @throws EconomyError `ERR_BAD_CURVE`.
 * @example
 * getTiers().map(s => [s.name, s.fromHours])
 * // [['Genesis', 0], ['Pioneer', 100000], ['Early', 500000], ['Maturing', 1000000], ['Established', 5000000], ['Baseline', 10000000]]
 */
export function getTiers (options?: CurveOptions): readonly CurveStage[] {
  const { decay } = resolveCurve(options)
  return CURVE_STAGE_NAMES.map((name, i) => {
    const fraction = STAGE_DECAY_FRACTIONS[name]
    const next = CURVE_STAGE_NAMES[i + 1]
    const fromHours = fraction * decay
    return {
      name,
      fromHours,
      toHours: next === undefined ? null : STAGE_DECAY_FRACTIONS[next] * decay,
      decayFraction: fraction,
      multiplier: contributionMultiplier(fromHours, options),
      multiplierPpb: multiplierPpb(fromHours, options)
    }
  })
}

/**
 * The name of the curve stage the network is in at `networkHours`.
 *
 * @throws EconomyError `ERR_BAD_HOURS`, `ERR_BAD_CURVE`.
 * @example
 * getTierName(0)                               // 'Genesis'
 * getTierName(250_000)                         // 'Pioneer'
 * getTierName(25_000, { decay: 100_000 })      // 'Pioneer' (seed 000's example, at its D)
 */
export function getTierName (networkHours: number, options?: CurveOptions): CurveStageName {
  assertHours(networkHours)
  const { decay } = resolveCurve(options)
  let current: CurveStageName = 'Genesis'
  for (const name of CURVE_STAGE_NAMES) {
    if (networkHours >= STAGE_DECAY_FRACTIONS[name] * decay) current = name
  }
  return current
}

/**
 * Micro-credits of paid work per network CPU-hour: the price table is calibrated at about one
 * credit per CPU-second (prices.ts: `custom_wasm` pays 1 credit per 1e9 fuel, about one
 * CPU-second; seed 001 §4.1's "1 credit / task unit"), so an hour is 3,600 credits. The ledger
 * counts the network's compute-hours H as paid work in micro-credits (every payment of every
 * settlement), which the chain rules can check, instead of wall time, which nobody can.
 *
 * @example MICRO_PER_CPU_HOUR === 3_600_000_000n
 */
export const MICRO_PER_CPU_HOUR = 3_600_000_000n

/**
 * Network CPU-hours for a total of paid work in micro-credits (see {@link MICRO_PER_CPU_HOUR}).
 * One IEEE division, so every replica computes the same hours (and so the same multiplier).
 *
 * @example networkHours(7_200_000_000n) === 2
 */
export function networkHours (workMicro: bigint): number {
  return Number(workMicro) / Number(MICRO_PER_CPU_HOUR)
}
