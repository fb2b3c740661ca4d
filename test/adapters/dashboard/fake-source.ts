/**
 * A test double of a node for the dashboard: `FakeDashboardSource` implements DashboardSource with
 * figures that advance one step per snapshot() call on a virtual clock (one step = one second), so
 * tests see them change without depending on wall time. It feeds a real SeriesTracker, so the live
 * charts show what a node would send.
 */
import { createSeriesTracker, multiplierView, SNAPSHOT_VERSION } from '../../../src/adapters/dashboard/index.ts'
import type { DashboardSnapshot, DashboardSource, SeriesTracker } from '../../../src/adapters/dashboard/index.ts'

/** Virtual start time: 2024-01-01T00:00:00Z. */
export const FAKE_T0 = 1_704_067_200_000

/** A fake node whose figures change with every snapshot. @example const fake = new FakeDashboardSource() */
export class FakeDashboardSource implements DashboardSource {
  /** How many snapshots were taken. */
  calls = 0
  /** When set, snapshot() throws this (to test the failure path). */
  failWith: Error | null = null
  /** When true, amounts are returned as bigints (the server must write them as strings). */
  bigintAmounts = false
  readonly tracker: SeriesTracker = createSeriesTracker({ intervalMs: 1000, capacity: 60 })

  snapshot (): DashboardSnapshot {
    if (this.failWith !== null) throw this.failWith
    const step = this.calls++
    const now = FAKE_T0 + step * 1000
    // A handful of tasks finish every virtual second, with a latency that wanders.
    for (let k = 0; k < 3 + (step % 4); k++) this.tracker.record(now - 900 + k * 100, 20 + ((step * 7 + k * 13) % 30))
    const amount = (micro: bigint): string => this.bigintAmounts ? (micro as unknown as string) : micro.toString()
    return {
      version: SNAPSHOT_VERSION,
      generatedAtMs: now,
      node: { id: 'en1fakeNodeForTheDashboardTest0000000000000', networkId: 'dashboard-test', uptimeMs: step * 1000, paused: false },
      peers: [
        { id: 'en1peerAlpha000000000000000000000000000000000', tier: 'Elite', reputation: 0.97, lastSeenMs: now - 400, stale: false },
        { id: 'en1peerBravo000000000000000000000000000000000', tier: 'Trusted', reputation: 0.88, lastSeenMs: now - 1200, stale: false },
        { id: 'en1peerCharlie00000000000000000000000000000000', tier: 'Probation', reputation: 0.52, lastSeenMs: now - 45_000, stale: true }
      ],
      tasks: { inFlight: 2 + (step % 3), completed: 40 + step * 3, failed: 1, submitted: 20 + step, verified: 18 + step },
      account: {
        balance: amount(125_500_000n + BigInt(step) * 1_250_000n),
        staked: amount(50_000_000n),
        reserved: amount(2_000_000n),
        earned: amount(80_000_000n + BigInt(step) * 1_250_000n),
        slashed: amount(0n),
        tier: 'Trusted',
        reputation: 0.9
      },
      accounts: [
        { id: 'en1peerAlpha000000000000000000000000000000000', balance: amount(300_000_000n), staked: amount(100_000_000n) },
        { id: 'en1fakeNodeForTheDashboardTest0000000000000', balance: amount(125_500_000n + BigInt(step) * 1_250_000n), staked: amount(50_000_000n) }
      ],
      multiplier: multiplierView(400_000 + step * 10_000),
      series: this.tracker.series(now)
    }
  }
}
