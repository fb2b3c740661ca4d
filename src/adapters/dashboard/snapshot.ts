/**
 * What the dashboard shows, as plain JSON-able data, and the port a node implements to supply it.
 *
 * The dashboard never sees the ledger, the transport or the node: it polls a
 * {@link DashboardSource} for a {@link DashboardSnapshot} (once per push interval, however many
 * browsers are open) and sends it as JSON. That keeps the server testable with a fake source and
 * keeps node internals out of a network-facing process boundary.
 *
 * Money: every amount is a decimal string of micro-credits (src/core/economy/units.ts; 1 credit =
 * 1,000,000 micro), because JSON has no bigint and a float would round. (If a source hands the
 * server a bigint anyway, the server writes it as such a string.)
 *
 * Time: every `…Ms` timestamp is milliseconds since the Unix epoch on the SOURCE's clock, and ages
 * on the page are computed against the snapshot's own `generatedAtMs`, so a browser whose clock is
 * off still shows the right "seen 3 s ago".
 */

/** Version of the snapshot shape; the page refuses a snapshot of another version. @example SNAPSHOT_VERSION === 1 */
export const SNAPSHOT_VERSION = 1

/** A decimal string of micro-credits, e.g. '1500000' for 1.5 credits. @example const m: MicroString = '1500000' */
export type MicroString = string

/** A chart point `[x, y]`; `y` null is a gap (no sample in that interval). @example const p: SeriesPoint = [1700000000000, 12.5] */
export type SeriesPoint = [number, number | null]

/** One peer in this node's live set (or just dropped from it). @example const p: DashboardPeer = { id: 'en1…', tier: 'Trusted', reputation: 0.9, lastSeenMs: Date.now(), stale: false } */
export interface DashboardPeer {
  /** Printable node id (src/core/identity). */
  id: string
  /** Reputation tier name (Elite, Trusted, Standard, Probation, Restricted). */
  tier: string
  /** Composite reputation score in [0, 1]. */
  reputation: number
  /** When a heartbeat or message from the peer last arrived (source clock, ms since epoch). */
  lastSeenMs: number
  /** True once the peer has been silent past the node's stale threshold (issue 4 §2). */
  stale: boolean
  /** Its stake as this node's ledger replica sees it (optional). */
  staked?: MicroString
}

/** Task counters of this node. @example const t: DashboardTasks = { inFlight: 2, completed: 10, failed: 1, submitted: 5, verified: 4 } */
export interface DashboardTasks {
  /** Tasks this node is working on or waiting on right now (as worker or submitter). */
  inFlight: number
  /** Tasks this node completed as a worker. */
  completed: number
  /** Tasks that failed (expired, not verified, worker errors). */
  failed: number
  /** Tasks this node submitted. */
  submitted: number
  /** Submitted tasks that settled with a verified result. */
  verified: number
}

/** This node's own account, from its ledger replica. @example const a: DashboardAccount = { balance: '10000000', staked: '0', reserved: '0', earned: '0', slashed: '0', tier: 'Standard', reputation: 0.75 } */
export interface DashboardAccount {
  /** Spendable balance (real credits, trial excluded unless the node says otherwise). */
  balance: MicroString
  staked: MicroString
  /** Escrowed for this node's tasks in flight. */
  reserved: MicroString
  /** Earned in total (payments and minted rewards). */
  earned: MicroString
  /** Lost to slashing in total. */
  slashed: MicroString
  /** Reputation tier name. */
  tier: string
  /** Composite reputation score in [0, 1]. */
  reputation: number
}

/** A row of the optional "top balances" table. @example const r: DashboardAccountRow = { id: 'en1…', balance: '5000000', staked: '1000000' } */
export interface DashboardAccountRow {
  id: string
  balance: MicroString
  staked: MicroString
}

/**
 * The contribution multiplier (seed 001 §4.2) and where the network stands on it; build it with
 * `multiplierView(hours)` from ./multiplier-view.ts.
 * @example const m: DashboardMultiplier = multiplierView(0)
 */
export interface DashboardMultiplier {
  /** Network CPU-hours H: `networkHours(ledger.workFrontier()?.total ?? 0n)`. */
  networkHours: number
  /** contributionMultiplier(H). */
  value: number
  /** Stage name of the curve at H (Genesis, Pioneer, …). */
  stage: string
  /** Points `[hours, multiplier]` of the curve, hours ascending, for the chart. */
  curve: Array<[number, number]>
}

/** Recent samples for the live charts; build them with `createSeriesTracker()` (./series.ts). @example const s: DashboardSeries = tracker.series(Date.now()) */
export interface DashboardSeries {
  /** `[tMs, tasks per second]`, one per interval, oldest first. */
  throughput: SeriesPoint[]
  /** `[tMs, median task latency in ms]` per interval; null where no task finished. */
  latencyP50: SeriesPoint[]
}

/**
 * Everything the page shows, in one JSON object.
 *
 * @example
 * const snap: DashboardSnapshot = {
 *   version: 1, generatedAtMs: Date.now(),
 *   node: { id: 'en1…', networkId: 'demo', uptimeMs: 5000, paused: false },
 *   peers: [], tasks: { inFlight: 0, completed: 0, failed: 0, submitted: 0, verified: 0 },
 *   account: { balance: '0', staked: '0', reserved: '0', earned: '0', slashed: '0', tier: 'Standard', reputation: 0.7 },
 *   multiplier: multiplierView(0), series: { throughput: [], latencyP50: [] }
 * }
 */
export interface DashboardSnapshot {
  /** {@link SNAPSHOT_VERSION}. */
  version: typeof SNAPSHOT_VERSION
  /** When the source built this snapshot (source clock, ms since epoch). */
  generatedAtMs: number
  node: {
    id: string
    networkId: string
    uptimeMs: number
    paused: boolean
  }
  peers: DashboardPeer[]
  tasks: DashboardTasks
  account: DashboardAccount
  /** Optional: the largest balances this replica knows (say the top 10). */
  accounts?: DashboardAccountRow[]
  multiplier: DashboardMultiplier
  series: DashboardSeries
}

/**
 * The port a node implements for its dashboard. `snapshot()` is called once per push interval
 * while a browser is connected, and once per `/api/snapshot` request; keep it cheap (read views
 * the node already maintains) and free of side effects.
 *
 * @example
 * const source: DashboardSource = {
 *   snapshot: () => ({ version: 1, generatedAtMs: Date.now(), node: { ... }, ... })
 * }
 */
export interface DashboardSource {
  snapshot: () => DashboardSnapshot | Promise<DashboardSnapshot>
}
