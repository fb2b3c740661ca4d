/**
 * The contribution-multiplier panel's data: the curve R(H) = 1 + 9·e^(−H/D) (seed 001 §4.2,
 * src/core/economy/multiplier.ts) sampled for a chart, and the network's current point on it.
 *
 * The node computes H from its ledger replica (`networkHours(ledger.workFrontier()?.total ?? 0n)`)
 * and hands only the number here, so the dashboard stays ignorant of the ledger.
 */
import { contributionMultiplier, getTierName, DEFAULT_DECAY_HOURS, type CurveOptions } from '../../core/economy/multiplier.ts'
import { DashboardError } from './errors.ts'
import type { DashboardMultiplier } from './snapshot.ts'

/** Options of {@link multiplierView}. @example const o: MultiplierViewOptions = { points: 61 } */
export interface MultiplierViewOptions {
  /** Number of curve samples, 2..2000. Default 121. */
  points?: number
  /**
   * Right end of the curve in hours. Default: 5·D (where R has fallen to ≈ 1.06, seed 001's
   * "established network"), stretched to 1.25·H when the network is already past it, so the
   * current point is always on the chart.
   */
  maxHours?: number
  /** The curve's parameters, as the economy takes them (default seed 001's: M = 10, D = 1e6). */
  curve?: CurveOptions
}

/**
 * The multiplier panel for a network at `networkHours`: the current value, the stage name and the
 * sampled curve (hours ascending, evenly spaced from 0).
 *
 * @throws DashboardError `ERR_DASHBOARD_BAD_OPTIONS` for a bad `points` or `maxHours`;
 *   EconomyError `ERR_BAD_HOURS` / `ERR_BAD_CURVE` from the economy for bad hours or curve.
 * @example
 * const m = multiplierView(networkHours(ledger.workFrontier()?.total ?? 0n))
 * m.value         // 10 at genesis
 * m.curve[0]      // [0, 10]
 */
export function multiplierView (networkHours: number, options: MultiplierViewOptions = {}): DashboardMultiplier {
  const value = contributionMultiplier(networkHours, options.curve)
  const points = options.points ?? 121
  if (!Number.isInteger(points) || points < 2 || points > 2000) {
    throw new DashboardError('ERR_DASHBOARD_BAD_OPTIONS', `multiplier points must be an integer in [2, 2000], got ${String(points)}`)
  }
  const decay = options.curve?.decay ?? DEFAULT_DECAY_HOURS
  const maxHours = options.maxHours ?? Math.max(5 * decay, 1.25 * networkHours)
  if (typeof maxHours !== 'number' || !Number.isFinite(maxHours) || maxHours <= 0) {
    throw new DashboardError('ERR_DASHBOARD_BAD_OPTIONS', `multiplier maxHours must be a finite number > 0, got ${String(maxHours)}`)
  }
  const curve: Array<[number, number]> = []
  for (let i = 0; i < points; i++) {
    const hours = maxHours * i / (points - 1)
    curve.push([hours, contributionMultiplier(hours, options.curve)])
  }
  return { networkHours, value, stage: getTierName(networkHours, options.curve), curve }
}
