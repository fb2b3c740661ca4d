/**
 * The dashboard's view of a running NodeHost (src/adapters/dashboard/): peers from presence with
 * their tiers in this node's ledger replica, the node's tasks and account, the network's point on
 * the contribution-multiplier curve (network hours from the ledger's work frontier), and live
 * throughput and latency of the tasks that finish here (settled as submitter: submit → settle;
 * completed as worker: assignment → commit).
 */
import { toKey } from '../core/bytes.ts'
import { networkHours } from '../core/economy/index.ts'
import { nodeIdFromPublicKey } from '../core/identity/index.ts'
import { SNAPSHOT_VERSION, createSeriesTracker, multiplierView } from '../adapters/dashboard/index.ts'
import type { DashboardSnapshot, DashboardSource } from '../adapters/dashboard/index.ts'
import type { NodeHost } from './node-host.ts'

/**
 * A DashboardSource over a host. Call the returned `dispose` when the host stops.
 * @example const { source } = hostDashboardSource(host); await startDashboard({ source, port: 8080 })
 */
export function hostDashboardSource (host: NodeHost, clock: { now: () => number } = { now: () => Date.now() }): { source: DashboardSource, dispose: () => void } {
  const tracker = createSeriesTracker()
  const started = new Map<string, number>()
  const counts = { submitted: 0, verified: 0, failed: 0 }
  const node = host.node
  const off = [
    node.on('task:submitted', ({ task }) => { counts.submitted++; started.set(toKey(task), clock.now()) }),
    node.on('task:settled', ({ task }) => {
      counts.verified++
      const t0 = started.get(toKey(task))
      started.delete(toKey(task))
      if (t0 !== undefined) tracker.record(clock.now(), clock.now() - t0)
    }),
    node.on('task:failed', ({ task }) => { counts.failed++; started.delete(toKey(task)) }),
    node.on('task:assigned', ({ task }) => { started.set('w' + toKey(task), clock.now()) }),
    node.on('task:completed', ({ task }) => {
      const t0 = started.get('w' + toKey(task))
      started.delete('w' + toKey(task))
      if (t0 !== undefined) tracker.record(clock.now(), clock.now() - t0)
    })
  ]
  const startedAt = clock.now()
  const source: DashboardSource = {
    snapshot (): DashboardSnapshot {
      const now = clock.now()
      const { ledger } = host
      const me = node.identity.publicKey
      const account = ledger.account(me)
      const rep = ledger.reputation(me)
      const stats = node.stats()
      const peers = host.peers().map(p => {
        const r = ledger.reputation(p.id)
        return { id: nodeIdFromPublicKey(p.id), tier: r.tier, reputation: r.composite, lastSeenMs: p.lastSeen, stale: !p.live, staked: ledger.account(p.id).staked.toString() }
      })
      const accounts = ledger.accountIds()
        .map(id => ({ id, view: ledger.account(id) }))
        .sort((a, b) => (b.view.balance > a.view.balance ? 1 : b.view.balance < a.view.balance ? -1 : 0))
        .slice(0, 10)
        .map(({ id, view }) => ({ id: nodeIdFromPublicKey(id), balance: view.balance.toString(), staked: view.staked.toString() }))
      let workersBusy = 0
      for (const k of started.keys()) if (k.startsWith('w')) workersBusy++
      return {
        version: SNAPSHOT_VERSION,
        generatedAtMs: now,
        node: { id: node.identity.nodeId, networkId: ledger.config.networkId, uptimeMs: now - startedAt, paused: node.paused },
        peers,
        tasks: { inFlight: stats.pending + workersBusy, completed: stats.tasksCompleted, failed: counts.failed, submitted: counts.submitted, verified: counts.verified },
        account: {
          balance: account.balance.toString(),
          staked: account.staked.toString(),
          reserved: account.reserved.toString(),
          earned: account.earned.toString(),
          slashed: account.slashed.toString(),
          tier: rep.tier,
          reputation: rep.composite
        },
        accounts,
        multiplier: multiplierView(networkHours(ledger.workFrontier()?.total ?? 0n)),
        series: tracker.series(now)
      }
    }
  }
  return { source, dispose: () => { for (const f of off) f() } }
}
