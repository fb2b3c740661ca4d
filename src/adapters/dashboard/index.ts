/**
 * The node dashboard (issue 4 §4): a read-only page a node serves on loopback (elsewhere only with
 * a token) showing its peers, tasks, balances, reputation, the contribution-multiplier curve and
 * live throughput and latency charts. The node supplies a {@link DashboardSource}; see
 * docs/dashboard.md.
 *
 * @example
 * import { startDashboard, createSeriesTracker, multiplierView } from './adapters/dashboard/index.ts'
 * const dash = await startDashboard({ source, port: 7070 })
 */
export { startDashboard, type DashboardOptions, type DashboardHandle } from './server.ts'
export { generateDashboardToken, isLoopbackHost, MIN_TOKEN_LENGTH } from './access.ts'
export { createSeriesTracker, type SeriesTracker, type SeriesTrackerOptions } from './series.ts'
export { multiplierView, type MultiplierViewOptions } from './multiplier-view.ts'
export { DashboardError, DASHBOARD_ERROR_CODES, type DashboardErrorCode } from './errors.ts'
export {
  SNAPSHOT_VERSION,
  type DashboardSnapshot, type DashboardSource, type DashboardPeer, type DashboardTasks,
  type DashboardAccount, type DashboardAccountRow, type DashboardMultiplier, type DashboardSeries,
  type SeriesPoint, type MicroString
} from './snapshot.ts'
