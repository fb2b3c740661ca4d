/**
 * `edge-net demo`: a local network of real node processes on loopback (issue 4 §3).
 *
 * 1. Makes a data directory per node under a temporary root, each with its own identity and the
 *    same network.json: a demo network whose genesis funds every node and the demo's own
 *    submitter, so everyone can stake and pay.
 * 2. Starts node 0 (`edge-net node`), then the others with node 0 as their bootstrap peer; the
 *    last `malicious` nodes run `--behaviour liar` (they return wrong results).
 * 3. Joins them with an in-process submitting node (NodeHost, no work), waits until every node is
 *    live and staked in its ledger replica, and submits a seeded mixed workload over every task
 *    type, a few at a time. Each verified output is checked against a local run of the kernel:
 *    `wrongAccepted` counts the ones that differ.
 * 4. Waits until every replica shows the same state root (rewards and slashes included), collects
 *    each node's report over IPC, and stops the processes cleanly.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { credits } from '../core/economy/index.ts'
import { Identity } from '../core/identity/index.ts'
import { KERNELS } from '../core/kernels/index.ts'
import { Ledger } from '../core/ledger/index.ts'
import { KeyFileStore } from '../adapters/keyfile/key-file-store.ts'
import { expectedOutput, mixedWorkload } from '../runtime/workload.ts'
import { serializeNetworkFile } from '../cli/network-file.ts'
import type { NetworkFile } from '../cli/network-file.ts'
import type { HostMessage, NodeReport } from './ipc.ts'
import { NodeHost } from './node-host.ts'

/** What a demo runs. @example { nodes: 5, tasks: 200, malicious: 1, seed: 1 } */
export interface DemoOptions {
  readonly nodes: number
  readonly tasks: number
  readonly malicious: number
  readonly seed: number
  /** Tasks in flight at once (default 8). */
  readonly inflight?: number
  /** Called after each task ends (for a progress bar). */
  readonly onProgress?: (done: number, total: number) => void
  /** Called with the submitting node once it is up (the CLI serves the dashboard from it). */
  readonly onHost?: (host: NodeHost) => Promise<void> | void
  /** Called with the report while the network still runs (the CLI prints it, then may hold until Ctrl-C). */
  readonly afterRun?: (report: DemoReport) => Promise<void> | void
  readonly log?: (line: string) => void
}

/** `edge-net demo --json`'s object. */
export interface DemoReport {
  nodes: NodeReport[]
  tasks: { submitted: number, verified: number, failed: number, wrongAccepted: number }
  credits: { minted: string, burned: string }
  converged: boolean
  durationMs: number
}

/** The `edge-net` launcher (bin/edge-net.js): it turns the compile cache on before any .ts loads. */
const CLI_LAUNCHER = fileURLToPath(new URL('../../bin/edge-net.js', import.meta.url))

/**
 * The V8 flags of a spawned node process, the launcher's shebang flags (a shebang is not read
 * when the script is given to `node` as an argument). Why 4 MB semi-spaces: see bin/edge-net.js.
 * @example NODE_FLAGS // ['--max-semi-space-size=4']
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4']

/** A running `edge-net node` process started with an IPC channel. */
export interface NodeProcess {
  readonly proc: ChildProcess
  readonly index: number
  readonly malicious: boolean
  /** Resolves once the node listens (its addresses and key), rejects if it exits first. */
  readonly ready: Promise<{ addresses: string[], publicKey: string }>
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>
}

/** How {@link spawnNode} starts a node. */
export interface SpawnNodeOptions {
  readonly bootstrap?: readonly string[]
  readonly malicious?: boolean
  readonly extraArgs?: readonly string[]
  /** LAN discovery by mDNS (default false: demos and tests meet only the peers they name). */
  readonly mdns?: boolean
  /** A command the node runs under, e.g. ['ip', 'netns', 'exec', name] (it must exec the rest, keeping the IPC descriptor). */
  readonly wrap?: readonly string[]
}

/**
 * Start `edge-net node --data DIR` as a child process on a free loopback port.
 * @example const n = spawnNode(dir, 0, { bootstrap: [] }); await n.ready
 */
export function spawnNode (dir: string, index: number, options: SpawnNodeOptions = {}): NodeProcess {
  const malicious = options.malicious ?? false
  const args = [...NODE_FLAGS, CLI_LAUNCHER, 'node', '--data', dir, '--listen', '/ip4/127.0.0.1/tcp/0', ...(options.mdns === true ? [] : ['--no-mdns']), '--json',
    ...(options.bootstrap ?? []).flatMap(b => ['--bootstrap', b]), ...(malicious ? ['--behaviour', 'liar'] : []), ...(options.extraArgs ?? [])]
  const wrap = options.wrap ?? []
  const proc = wrap.length === 0
    ? spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    : spawn(wrap[0] as string, [...wrap.slice(1), process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const exited = new Promise<number | null>(resolve => proc.once('exit', code => { resolve(code) }))
  const ready = new Promise<{ addresses: string[], publicKey: string }>((resolve, reject) => {
    proc.on('message', (m: HostMessage) => { if (m.type === 'ready') resolve({ addresses: m.addresses, publicKey: m.publicKey }) })
    void exited.then(code => { reject(new Error(`node ${index} exited with code ${String(code)} before it was ready: ${stderr.trim()}`)) })
  })
  ready.catch(() => {}) // observed by whoever awaits it
  return { proc, index, malicious, ready, exited }
}

let nextRequest = 1
/**
 * Ask a node process for its report.
 * @example const report = await askNode(n)
 */
export async function askNode (child: NodeProcess, timeoutMs = 10_000): Promise<NodeReport> {
  const id = nextRequest++
  return await new Promise<NodeReport>((resolve, reject) => {
    const timer = setTimeout(() => { child.proc.off('message', on); reject(new Error(`node ${child.index} did not answer`)) }, timeoutMs)
    const on = (m: HostMessage): void => {
      if (m.type === 'status' && m.id === id) { clearTimeout(timer); child.proc.off('message', on); resolve(m.report) }
    }
    child.proc.on('message', on)
    child.proc.send({ type: 'status', id })
  })
}

/**
 * Stop a node process cleanly (IPC `stop`, then SIGKILL after `graceMs`).
 * @example await stopNode(n)
 */
export async function stopNode (child: NodeProcess, graceMs = 15_000): Promise<number | null> {
  if (child.proc.connected) child.proc.send({ type: 'stop' })
  const t = setTimeout(() => { child.proc.kill('SIGKILL') }, graceMs)
  const code = await child.exited
  clearTimeout(t)
  return code
}

/**
 * Make the data directories of a demo-style network: one identity per node (plus any extra
 * identities, e.g. a submitter's) and one network.json whose genesis funds them all.
 * @example const { dirs, ids, network } = await makeNetwork(root, 5, 1, 'demo')
 */
export async function makeNetwork (root: string, nodes: number, extra: number, networkId: string, rules: NetworkFile['rules'] = {}): Promise<{ dirs: string[], ids: Identity[], network: NetworkFile }> {
  const ids = await Promise.all(Array.from({ length: nodes + extra }, async () => await Identity.generate()))
  const network: NetworkFile = { networkId, genesis: ids.map(id => ({ account: id.publicKey, amount: credits(10_000) })), rules }
  const dirs: string[] = []
  for (let i = 0; i < nodes; i++) {
    const dir = join(root, `node-${i}`)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await new KeyFileStore(join(dir, 'identity.key')).save(await (ids[i] as Identity).export())
    await writeFile(join(dir, 'network.json'), serializeNetworkFile(network))
    dirs.push(dir)
  }
  return { dirs, ids, network }
}

async function until (ok: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await ok()) return true
    await new Promise(resolve => setTimeout(resolve, stepMs))
  }
  return await ok()
}

/**
 * Run the demo; resolves with the report once every process has stopped.
 * @example const report = await runDemo({ nodes: 5, tasks: 200, malicious: 1, seed: 1 })
 */
export async function runDemo (options: DemoOptions): Promise<DemoReport> {
  const log = options.log ?? (() => {})
  const started = Date.now()
  const root = await mkdtemp(join(tmpdir(), 'edge-net-demo-'))
  const children: NodeProcess[] = []
  let host: NodeHost | undefined
  let ledger: Ledger | undefined
  try {
    // 1. Identities and one network.json for all.
    const { dirs, ids, network } = await makeNetwork(root, options.nodes, 1, `edge-net-demo-${options.seed}`)
    const submitterId = ids[options.nodes] as Identity
    // 2. Node 0, then the rest bootstrapped to it.
    const isLiar = (i: number): boolean => i >= options.nodes - options.malicious
    const first = spawnNode(dirs[0] as string, 0, { malicious: isLiar(0) })
    children.push(first)
    const { addresses } = await first.ready
    for (let i = 1; i < options.nodes; i++) children.push(spawnNode(dirs[i] as string, i, { bootstrap: addresses, malicious: isLiar(i) }))
    await Promise.all(children.map(async c => await c.ready))
    log(`${options.nodes} nodes up (${options.malicious} lying)`)

    // 3. The submitting node.
    ledger = Ledger.create({ config: { ...network.rules, networkId: network.networkId, genesis: network.genesis } })
    host = await NodeHost.start({ identity: submitterId, ledger, bootstrap: addresses, work: false, heartbeatMs: 1000, submitter: { redundancy: 3 } })
    await options.onHost?.(host)
    const minStake = ledger.config.minStake
    const l = ledger
    const h = host
    const ready = await until(() => h.presence.live().length >= options.nodes && ids.slice(0, options.nodes).every(id => l.account(id.publicKey).staked >= minStake), 60_000)
    if (!ready) throw new Error('the nodes did not all become live and staked within 60 s')
    log('every node is live and staked; submitting')

    const workload = mixedWorkload({ seed: options.seed, count: options.tasks })
    const tasks = { submitted: 0, verified: 0, failed: 0, wrongAccepted: 0 }
    let next = 0
    let done = 0
    const lane = async (): Promise<void> => {
      while (next < workload.length) {
        const task = workload[next++]
        if (task === undefined) return
        tasks.submitted++
        try {
          const result = await h.node.submit({ type: task.type, payload: task.payload, options: { timeout: 30_000 } })
          if (result.verified) tasks.verified++
          const kernel = KERNELS[task.type]
          if (kernel !== undefined && !kernel.agree(result.output, await expectedOutput(task))) tasks.wrongAccepted++
        } catch {
          tasks.failed++
        }
        options.onProgress?.(++done, workload.length)
      }
    }
    await Promise.all(Array.from({ length: options.inflight ?? 8 }, lane))

    // 4. Converge: every replica (and ours) on one root.
    let reports: NodeReport[] = []
    const converged = await until(async () => {
      reports = await Promise.all(children.map(async c => await askNode(c)))
      const roots = new Set([...reports.map(r => r.stateRoot), h.ledger.stateRootHex()])
      return roots.size === 1
    }, 60_000, 500)
    const totals = h.ledger.totals()
    const report: DemoReport = {
      nodes: reports,
      tasks,
      credits: { minted: totals.minted.toString(), burned: totals.burned.toString() },
      converged,
      durationMs: Date.now() - started
    }
    await options.afterRun?.(report)
    return report
  } finally {
    await host?.stop().catch(() => {})
    await ledger?.close().catch(() => {})
    await Promise.all(children.map(async c => await stopNode(c)))
    await rm(root, { recursive: true, force: true })
  }
}
