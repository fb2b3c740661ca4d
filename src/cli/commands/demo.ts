/**
 * `edge-net demo`: start a local network of real node processes on loopback, run a mixed workload
 * over every task type with some nodes lying, and print what happened (src/host/demo.ts).
 */
import type { DemoReport } from '../../host/demo.ts'
import type { CommandSpec } from '../args.ts'
import { usageError } from '../errors.ts'
import { table } from '../output.ts'

/**
 * The demo command.
 *
 * @example
 * edge-net demo --nodes 5 --tasks 200 --malicious 1 --seed 7 --json
 */
export const demo: CommandSpec = {
  name: 'demo',
  summary: 'run a local network of node processes and a mixed workload',
  args: '',
  description: 'Starts N `edge-net node` processes on 127.0.0.1 (each with its own data directory in a\n' +
    'temporary folder, funded by the demo network\'s genesis), makes the last K of them lie, submits\n' +
    'a seeded workload over every task type from an in-process node, checks every verified output\n' +
    'against a local run, waits until all ledger replicas agree, and stops everything.',
  options: {
    nodes: { type: 'string', value: 'N', description: 'node processes (default 5)' },
    tasks: { type: 'string', value: 'N', description: 'tasks to submit (default 200)' },
    malicious: { type: 'string', value: 'K', description: 'nodes that return wrong results (default 0)' },
    seed: { type: 'string', value: 'N', description: 'workload seed (default 1)' },
    inflight: { type: 'string', value: 'N', description: 'tasks in flight at once (default 8)' },
    dashboard: { type: 'string', value: 'PORT', description: 'serve the dashboard on 127.0.0.1:PORT (default a free port)' },
    'no-dashboard': { type: 'boolean', description: 'do not serve the dashboard' },
    keep: { type: 'boolean', description: 'after the workload, keep the network (and dashboard) running until Ctrl-C' }
  },
  positionals: { min: 0, max: 0 },
  json: true,
  async run (ctx) {
    // Loaded here, not at the top: every CLI run loads the command table (src/cli/commands/index.ts).
    const { formatCredits } = await import('../../core/economy/index.ts')
    const { runDemo } = await import('../../host/demo.ts')
    const { hostDashboardSource } = await import('../../host/dashboard-source.ts')
    const { startDashboard } = await import('../../adapters/dashboard/index.ts')
    const f = ctx.flags
    const nodes = f.integer('nodes', { min: 3, max: 32 }) ?? 5
    const tasks = f.integer('tasks', { min: 0, max: 10_000 }) ?? 200
    const malicious = f.integer('malicious', { min: 0 }) ?? 0
    if (malicious > nodes - 3) throw usageError(`--malicious must leave at least 3 honest nodes (redundancy 3): at most ${nodes - 3} of ${nodes}`)
    const seed = f.integer('seed') ?? 1
    const inflight = f.integer('inflight', { min: 1, max: 256 }) ?? 8
    const bar = ctx.out.progress('tasks', tasks)
    const dashboardPort = f.integer('dashboard', { min: 0, max: 65535 }) ?? 0
    let closeDashboard = async (): Promise<void> => {}
    const report = await runDemo({
      nodes,
      tasks,
      malicious,
      seed,
      inflight,
      onProgress: (done) => { bar.update(done) },
      log: (line) => { ctx.out.note(line) },
      onHost: async (host) => {
        if (f.boolean('no-dashboard')) return
        const { source, dispose } = hostDashboardSource(host)
        const dashboard = await startDashboard({ source, port: dashboardPort })
        closeDashboard = async () => { dispose(); await dashboard.close() }
        ctx.out.note(`dashboard: ${dashboard.url}`)
      },
      afterRun: async (report) => {
        bar.finish()
        print(report)
        if (f.boolean('keep')) {
          ctx.out.note('the network keeps running; Ctrl-C stops it')
          await new Promise<void>(resolve => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve) })
        }
      }
    }).finally(async () => { await closeDashboard() })
    return report.converged && report.tasks.wrongAccepted === 0 ? 0 : 1

    function print (report: DemoReport): void {
      ctx.out.result(report, () => [
      table([
        ['tasks', `${report.tasks.submitted} submitted, ${report.tasks.verified} verified, ${report.tasks.failed} failed, ${report.tasks.wrongAccepted} wrong accepted`],
        ['credits', `${formatCredits(BigInt(report.credits.minted))} minted, ${formatCredits(BigInt(report.credits.burned))} burned`],
        ['replicas', report.converged ? 'every state root equal' : 'NOT converged'],
        ['duration', `${(report.durationMs / 1000).toFixed(1)} s`]
      ]),
      '',
      ...report.nodes.map(n => `${n.id.slice(0, 16)}… ${n.malicious ? 'liar  ' : 'honest'} ${n.tier.padEnd(10)} balance ${formatCredits(BigInt(n.balance)).padStart(12)}  staked ${formatCredits(BigInt(n.staked))}  slashed ${formatCredits(BigInt(n.slashed))}  tasks ${n.tasksCompleted}`)
    ].join('\n'))
    }
  }
}
