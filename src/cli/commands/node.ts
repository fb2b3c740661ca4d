/**
 * `edge-net node`: run a contributing node from a data directory until SIGINT/SIGTERM. It opens
 * (or creates) the identity and the SQLite ledger, starts a NodeHost (libp2p, ledger sync,
 * heartbeats, the kernel pool), writes node.json for `edge-net status`, and on a signal settles
 * what it verified, releases what it did not, closes the ledger and removes node.json.
 *
 * Started by another process with an IPC channel (as `edge-net demo` does), it also reports
 * `{ type: 'ready' }` and answers `{ type: 'status' }` and `{ type: 'stop' }` messages
 * (src/host/ipc.ts).
 */
import type { TaskType } from '../../core/economy/index.ts'
import type { HostMessage } from '../../host/ipc.ts'
import type { NodeHost } from '../../host/node-host.ts'
import type { CommandSpec } from '../args.ts'
import { usageError } from '../errors.ts'
import { table } from '../output.ts'
import { onShutdown } from '../shutdown.ts'

/**
 * The node command.
 *
 * @example
 * edge-net node --data ./node-a --listen /ip4/0.0.0.0/tcp/4001 --cpu 0.3
 */
export const node: CommandSpec = {
  name: 'node',
  summary: 'run a contributing node until interrupted',
  args: '',
  description: 'Joins the network named in DIR/network.json: listens, dials the bootstrap list (and finds\n' +
    'peers by mDNS unless --no-mdns), replicates the ledger, runs tasks for others with --cpu of\n' +
    'its CPU, and stakes the network minimum from its balance if it can. SIGINT/SIGTERM stop it\n' +
    'cleanly: verified tasks are settled, open ones released, the ledger closed.',
  options: {
    listen: { type: 'string', multiple: true, value: 'ADDR', description: 'multiaddr to listen on (repeatable; default /ip4/127.0.0.1/tcp/0)' },
    bootstrap: { type: 'string', multiple: true, value: 'ADDR', description: 'multiaddr with /p2p/<id> to dial at start (repeatable)' },
    'no-mdns': { type: 'boolean', description: 'do not discover peers on the local network' },
    cpu: { type: 'string', value: 'SHARE', description: 'CPU share for tasks, 0.1 to 1 (default 1)' },
    threads: { type: 'string', value: 'N', description: 'kernel threads (default 1)' },
    slots: { type: 'string', value: 'N', description: 'tasks claimed or running at once (default 2 × threads)' },
    tasks: { type: 'string', value: 'TYPES', description: 'comma-separated task types to run (default all)' },
    'no-work': { type: 'boolean', description: 'do not run tasks for others (submit only)' },
    stake: { type: 'string', value: 'CREDITS', description: 'stake up to this many credits at start (default the network minimum)' },
    dashboard: { type: 'string', value: 'PORT', description: 'serve the dashboard on 127.0.0.1:PORT' },
    relay: { type: 'boolean', description: 'offer circuit relay v2 to browsers and NATed peers' },
    behaviour: { type: 'string', value: 'KIND', description: 'honest (default) or liar: a node that returns wrong results, for demos of verification' }
  },
  positionals: { min: 0, max: 0 },
  json: true,
  async run (ctx) {
    // Loaded here, not at the top: every CLI run loads the command table (src/cli/commands/index.ts).
    const { toHex } = await import('../../core/bytes.ts')
    const { credits, TASK_TYPES } = await import('../../core/economy/index.ts')
    const { NodeHost: Host } = await import('../../host/node-host.ts')
    const { lyingBehaviour, nodeReport } = await import('../../host/ipc.ts')
    const { hostDashboardSource } = await import('../../host/dashboard-source.ts')
    const { startDashboard } = await import('../../adapters/dashboard/index.ts')
    const { openDataDir, removeNodeInfo, writeNodeInfo } = await import('../data-dir.ts')
    const f = ctx.flags
    const cpu = f.number('cpu', { min: 0.1, max: 1 }) ?? 1
    const threads = f.integer('threads', { min: 1, max: 64 }) ?? 1
    const slots = f.integer('slots', { min: 1, max: 1024 })
    const stake = f.number('stake', { min: 0 })
    const types = f.string('tasks')?.split(',').map(t => t.trim()).filter(Boolean)
    for (const t of types ?? []) if (!(TASK_TYPES as readonly string[]).includes(t)) throw usageError(`--tasks: unknown task type "${t}" (types: ${TASK_TYPES.join(', ')})`)
    const behaviourName = f.string('behaviour') ?? 'honest'
    if (behaviourName !== 'honest' && behaviourName !== 'liar') throw usageError('--behaviour must be honest or liar')

    const data = await openDataDir(ctx.dataDir, { create: true })
    const ledger = await data.openLedger()
    const shutdown = onShutdown({ stderr: ctx.io.stderr })
    shutdown.add(async () => { await ledger.close() })
    let host: NodeHost
    try {
      host = await Host.start({
        identity: data.identity,
        ledger,
        listen: f.strings('listen').length > 0 ? f.strings('listen') : ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: f.strings('bootstrap'),
        mdns: !f.boolean('no-mdns'),
        relay: f.boolean('relay'),
        cpu,
        threads,
        ...(slots === undefined ? {} : { maxConcurrent: slots }),
        work: !f.boolean('no-work'),
        ...(types === undefined ? {} : { tasks: types as TaskType[] }),
        ...(stake === undefined ? {} : { stake: credits(stake) }),
        ...(behaviourName === 'liar' ? { behaviour: lyingBehaviour() } : {}),
        onError: (error) => { if (process.env.EDGE_NET_DEBUG === '1') ctx.io.stderr.write(`edge-net: node: ${String((error as Error)?.message ?? error)}\n`) }
      })
    } catch (err) {
      await shutdown.trigger('start failed').catch(() => {})
      throw err
    }
    shutdown.add(async () => { await host.stop() })
    // Write the compile cache bin/edge-net.js turned on now, not only at exit: the next node
    // started on this machine (a demo's others, a restart after a crash) then loads from it.
    const { flushCompileCache } = await import('node:module')
    flushCompileCache?.()
    let dashboardUrl: string | null = null
    const dashboardPort = f.integer('dashboard', { min: 0, max: 65535 })
    if (dashboardPort !== undefined) {
      const { source, dispose } = hostDashboardSource(host)
      const dashboard = await startDashboard({ source, port: dashboardPort })
      shutdown.add(async () => { dispose(); await dashboard.close() })
      dashboardUrl = dashboard.url
    }
    const info = { pid: process.pid, nodeId: data.identity.nodeId, networkId: data.network.networkId, listen: host.addresses(), dashboard: dashboardUrl, startedAt: Date.now() }
    await writeNodeInfo(data.paths, info)
    shutdown.add(async () => { await removeNodeInfo(data.paths, process.pid) })

    // A parent process (edge-net demo) talks to this node over IPC.
    if (typeof process.send === 'function') {
      const send = (m: HostMessage): void => { try { process.send?.(m) } catch { /* the parent is gone */ } }
      process.on('message', (m: unknown) => {
        const msg = m as { type?: unknown, id?: unknown }
        if (msg?.type === 'status') send({ type: 'status', id: Number(msg.id), report: nodeReport(host, behaviourName === 'liar') })
        else if (msg?.type === 'stop') void shutdown.trigger('stop requested')
      })
      process.on('disconnect', () => { void shutdown.trigger('parent gone') })
      send({ type: 'ready', nodeId: data.identity.nodeId, publicKey: toHex(data.identity.publicKey), addresses: host.addresses() })
    }
    ctx.out.result({ nodeId: info.nodeId, publicKey: toHex(data.identity.publicKey), networkId: info.networkId, listen: info.listen, dashboard: dashboardUrl }, () => table([
      ['node id', info.nodeId],
      ['network', info.networkId],
      ...info.listen.map(a => ['listening', a] as const),
      ...(dashboardUrl === null ? [] : [['dashboard', dashboardUrl] as const]),
      ['stop', 'Ctrl-C (SIGINT) or SIGTERM']
    ]))
    await shutdown.done
    return 0
  }
}
