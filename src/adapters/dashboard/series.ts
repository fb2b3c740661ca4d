/**
 * The live charts' data: a fixed-size ring buffer of per-interval samples (tasks per second and
 * median latency) that a node feeds from its task events and the dashboard reads in each snapshot.
 *
 * Pure and clock-free like the core: the caller passes the time of every sample and of every read
 * (`Date.now()` in a node, anything in a test), so the figures are deterministic. Intervals are
 * aligned to multiples of `intervalMs` since the epoch; an interval is published once it is over,
 * so the newest point never shows a half-counted second.
 */
import { DashboardError } from './errors.ts'
import type { DashboardSeries, SeriesPoint } from './snapshot.ts'

/** Options of {@link createSeriesTracker}. @example const o: SeriesTrackerOptions = { intervalMs: 1000, capacity: 120 } */
export interface SeriesTrackerOptions {
  /** Width of one sample interval in ms, 100..3,600,000. Default 1000 (one point per second). */
  intervalMs?: number
  /** Number of intervals kept, 2..10,000. Default 120 (two minutes at one per second). */
  capacity?: number
}

/**
 * Collects task completions into intervals. See {@link createSeriesTracker}.
 * @example tracker.record(Date.now(), 12.5); tracker.series(Date.now())
 */
export interface SeriesTracker {
  /** Width of one interval in ms. */
  readonly intervalMs: number
  /** Number of intervals kept. */
  readonly capacity: number
  /**
   * A task finished at `atMs` (ms since epoch) after `latencyMs` (submit → verified result, or
   * assignment → result for a worker: the node chooses and documents which). A sample older than
   * the open interval is counted in the open interval (late events are rare and a chart need not
   * rewrite history).
   * @throws DashboardError `ERR_DASHBOARD_BAD_SAMPLE` for a non-finite time or a latency that is not finite and >= 0.
   */
  record: (atMs: number, latencyMs: number) => void
  /**
   * The closed intervals up to `nowMs`, oldest first: `[end of interval in ms, value]`. Empty
   * intervals count as 0 tasks/s and a null (gap) latency.
   * @throws DashboardError `ERR_DASHBOARD_BAD_SAMPLE` for a non-finite `nowMs`.
   */
  series: (nowMs: number) => DashboardSeries
}

/** At most this many latencies per interval are kept for the median (the count stays exact). */
const MAX_LATENCIES_PER_INTERVAL = 4096

/**
 * A series tracker with a ring buffer of `capacity` intervals of `intervalMs` each.
 *
 * @throws DashboardError `ERR_DASHBOARD_BAD_OPTIONS` for an interval or capacity out of range.
 * @example
 * const tracker = createSeriesTracker({ intervalMs: 1000, capacity: 120 })
 * node.on('task:settled', d => { tracker.record(Date.now(), d.latencyMs) })
 * const snapshot = { ...rest, series: tracker.series(Date.now()) }
 */
export function createSeriesTracker (options: SeriesTrackerOptions = {}): SeriesTracker {
  const intervalMs = options.intervalMs ?? 1000
  const capacity = options.capacity ?? 120
  if (!Number.isInteger(intervalMs) || intervalMs < 100 || intervalMs > 3_600_000) {
    throw new DashboardError('ERR_DASHBOARD_BAD_OPTIONS', `series intervalMs must be an integer in [100, 3600000], got ${String(intervalMs)}`)
  }
  if (!Number.isInteger(capacity) || capacity < 2 || capacity > 10_000) {
    throw new DashboardError('ERR_DASHBOARD_BAD_OPTIONS', `series capacity must be an integer in [2, 10000], got ${String(capacity)}`)
  }

  // Ring of closed intervals: end time, tasks/s, median latency (NaN = none).
  const ends = new Float64Array(capacity)
  const rates = new Float64Array(capacity)
  const medians = new Float64Array(capacity)
  let head = 0 // next slot to write
  let size = 0

  // The open interval: its index (floor(t / intervalMs)), or null before the first event or read.
  let openIndex: number | null = null
  let openCount = 0
  let openLatencies: number[] = []

  function push (index: number, count: number, latencies: number[]): void {
    ends[head] = (index + 1) * intervalMs
    rates[head] = count * 1000 / intervalMs
    medians[head] = median(latencies)
    head = (head + 1) % capacity
    if (size < capacity) size++
  }

  /** Close the open interval and any empty ones up to (not including) `index`. */
  function advanceTo (index: number): void {
    if (openIndex === null) { openIndex = index; return }
    if (index <= openIndex) return
    push(openIndex, openCount, openLatencies)
    // Empty intervals in between, but never more than the ring holds.
    const firstEmpty = Math.max(openIndex + 1, index - capacity)
    for (let i = firstEmpty; i < index; i++) push(i, 0, [])
    openIndex = index
    openCount = 0
    openLatencies = []
  }

  function checkTime (t: number, what: string): void {
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new DashboardError('ERR_DASHBOARD_BAD_SAMPLE', `${what} must be a finite number of ms, got ${String(t)}`)
    }
  }

  return {
    intervalMs,
    capacity,
    record (atMs: number, latencyMs: number): void {
      checkTime(atMs, 'sample time')
      if (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0) {
        throw new DashboardError('ERR_DASHBOARD_BAD_SAMPLE', `latency must be a finite number >= 0, got ${String(latencyMs)}`)
      }
      advanceTo(Math.floor(atMs / intervalMs))
      openCount++
      if (openLatencies.length < MAX_LATENCIES_PER_INTERVAL) openLatencies.push(latencyMs)
    },
    series (nowMs: number): DashboardSeries {
      checkTime(nowMs, 'now')
      advanceTo(Math.floor(nowMs / intervalMs))
      const throughput: SeriesPoint[] = []
      const latencyP50: SeriesPoint[] = []
      for (let k = 0; k < size; k++) {
        const i = (head - size + k + capacity) % capacity
        const end = ends[i] as number
        const m = medians[i] as number
        throughput.push([end, rates[i] as number])
        latencyP50.push([end, Number.isNaN(m) ? null : m])
      }
      return { throughput, latencyP50 }
    }
  }
}

/** The median by nearest rank (the ⌈n/2⌉-th smallest), NaN for none. */
function median (values: number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.ceil(sorted.length / 2) - 1] as number
}
