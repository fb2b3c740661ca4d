/**
 * Network benchmarks, the `network` group (issue 4 §6).
 *
 * `network.converge_p99_ms`: 20 nodes on real libp2p (loopback TCP, Noise, Yamux, gossipsub), each
 * with its own ledger replica and LedgerSync (gossip of new events + Merkle-range anti-entropy), all
 * in this one process. A burst of `BENCH_NET_EVENTS` (default 10,000) signed transfers is appended,
 * spread over the nodes; for each node, the time from the last append anywhere until that node holds
 * every event of the burst. The figure is the 99th percentile over the nodes (and the max is noted).
 * Topology: before the burst each node dials up to 8 earlier nodes (seeded choice, failed dials
 * retried: libp2p refuses more than 5 inbound connections a second from one address, and on
 * loopback every dial comes from 127.0.0.1), and the burst starts once every link is subscribed
 * both ways and the meshes have had 3 s to form; each node's anti-entropy peers are its
 * neighbours. (Bootstrapping all to 3 nodes left about half the nodes unconnected at the start.)
 *
 * `network.idle_*`: one idle node of a 3-process cluster, from /proc (Linux only).
 *
 * What bounds it on this machine: every replica verifies every event (Ed25519), so 20 replicas of a
 * 10,000-event burst are 200,000 verifications on 2 shared cores (~8.5k/s per core): the replicas of
 * a real network each have their own CPU. The note states the verification bound measured in the
 * same run, so the figure can be read against it.
 */
import { toKey } from '../src/core/bytes.ts'
import { credits } from '../src/core/economy/index.ts'
import { Identity } from '../src/core/identity/index.ts'
import { Account, Ledger } from '../src/core/ledger/index.ts'
import { Libp2pTransport } from '../src/adapters/libp2p/index.ts'
import { LEDGER_SYNC_TOPIC, LEDGER_TOPIC, LedgerSync } from '../src/runtime/ledger-sync.ts'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeEncryptionPayload } from '../src/core/kernels/index.ts'
import { makeNetwork, spawnNode, stopNode } from '../src/host/demo.ts'
import type { NodeProcess } from '../src/host/demo.ts'
import { NodeHost } from '../src/host/node-host.ts'
import type { Figure } from './run.ts'
import { percentile } from './tasks.ts'


async function verifyRate (ms: number): Promise<number> {
  const id = await Identity.generate()
  const msg = new Uint8Array(200)
  const sig = await id.sign(msg)
  const key = await crypto.subtle.importKey('raw', id.publicKey, 'Ed25519', false, ['verify'])
  let n = 0
  const end = performance.now() + ms
  await Promise.all(Array.from({ length: 32 }, async () => { while (performance.now() < end) { await crypto.subtle.verify('Ed25519', key, sig, msg); n++ } }))
  return n / (ms / 1000)
}

/** @internal The 20-node convergence run (exported for tuning). */
export async function converge (opts: { nodes: number, events: number }): Promise<{ perNodeMs: number[], appendMs: number, verifyPerS: number }> {
  // The machine's verification rate, before any node runs (the bound in the note).
  const verifyPerS = await verifyRate(1000)
  const ids = await Promise.all(Array.from({ length: opts.nodes }, async () => await Identity.generate()))
  const config = { networkId: 'bench-network', genesis: ids.map(id => ({ account: id.publicKey, amount: credits(1_000_000) })) }
  const nodes: Array<{ id: Identity, ledger: Ledger, transport: Libp2pTransport, sync: LedgerSync }> = []
  for (const id of ids) {
    const ledger = Ledger.create({ config })
    // No DHT and no mDNS: this measures ledger replication; 20 DHT nodes in one process would spend
    // the shared CPU on routing-table upkeep. The links are dialled below instead.
    const transport = await Libp2pTransport.create({ identity: id, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: false, topics: [LEDGER_TOPIC] })
    const sync = new LedgerSync({ ledger, transport, batchMs: 5 })
    transport.onMessage((from, topic, data) => { if (topic === LEDGER_TOPIC || topic === LEDGER_SYNC_TOPIC) sync.handle(from, topic, data) })
    ledger.onAppend(e => { sync.announce(e) })
    nodes.push({ id, ledger, transport, sync })
  }
  // The topology discovery would build: each node dials earlier ones (seeded picks) until it has
  // MIN_LINKS connections, as the transport's discovery dials until `minConnections` (8). Dialled
  // here, with retries, because on loopback every dial comes from 127.0.0.1 and libp2p refuses
  // more than 5 inbound connections per second from one host (inboundConnectionThreshold): the
  // bootstrap list this bench used before left 9 of 20 nodes with no connection at the burst, and
  // the rest a 3-hub star whose gossipsub meshes could not hold every node (the others got events
  // by the 1 s IHAVE heartbeat or by anti-entropy: the ~1.2 s "systematic" delay measured).
  const MIN_LINKS = 8
  let seed = 42
  const pick = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor(seed / 2147483648 * n) }
  const neighbours = nodes.map(() => new Set<number>())
  for (let i = 1; i < nodes.length; i++) {
    const pool = Array.from({ length: i }, (_, k) => k)
    while (neighbours[i]!.size < MIN_LINKS && pool.length > 0) {
      const j = pool.splice(pick(pool.length), 1)[0] as number
      const address = (nodes[j] as { transport: Libp2pTransport }).transport.addresses()[0] as string
      for (let attempt = 0; ; attempt++) {
        try { await (nodes[i] as { transport: Libp2pTransport }).transport.dial(address); break } catch (err) {
          if (attempt >= 100) throw err
          await new Promise(resolve => setTimeout(resolve, 200))
        }
      }
      neighbours[i]!.add(j)
      neighbours[j]!.add(i)
    }
  }
  // Every link subscribed both ways, then two gossipsub heartbeats for the meshes to graft. A
  // node's sync peers are its neighbours: without a DHT nobody else can be dialled.
  await Promise.all(nodes.map(async (n, i) => { await n.transport.ready([...neighbours[i]!].map(j => (nodes[j] as { id: Identity }).id.publicKey), { signal: AbortSignal.timeout(60_000) }) }))
  nodes.forEach((n, i) => { for (const j of neighbours[i]!) n.sync.addPeer((nodes[j] as { id: Identity }).id.publicKey) })
  await new Promise(resolve => setTimeout(resolve, 3000))
  for (const n of nodes) n.sync.start({ intervalMs: 1000 })

  const perNode = Math.ceil(opts.events / opts.nodes)
  const total = perNode * opts.nodes
  const clock = { now: () => Date.now() }
  const t0 = performance.now()
  await Promise.all(nodes.map(async (n, i) => {
    const account = new Account({ ledger: n.ledger, signer: n.id, clock })
    const to = (nodes[(i + 1) % nodes.length] as { id: Identity }).id.publicKey
    for (let k = 0; k < perNode; k++) await account.transfer(to, 1n)
  }))
  const last = performance.now()
  const perNodeMs: number[] = new Array(nodes.length).fill(NaN)
  const deadline = last + 600_000
  while (perNodeMs.some(Number.isNaN) && performance.now() < deadline) {
    nodes.forEach((n, i) => { if (Number.isNaN(perNodeMs[i]) && n.ledger.size >= total) perNodeMs[i] = performance.now() - last })
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  const roots = new Set(nodes.map(n => toKey(n.ledger.stateRoot())))
  for (const n of nodes) { await n.sync.close(); await n.transport.close() }
  if (roots.size !== 1 || perNodeMs.some(Number.isNaN)) throw new Error(`the ${opts.nodes} replicas did not converge (${roots.size} roots)`)
  return { perNodeMs, appendMs: last - t0, verifyPerS }
}

/** @internal The 5-process cluster run: throughput and latency of small tasks (exported for tuning). */
export async function cluster (opts: { nodes: number, warmupMs: number, windowMs: number, inflight: number, slots: number }): Promise<{ perS: number, p50: number, p99: number, tasks: number, failed: number, bytesPerTask: number }> {
  const root = await mkdtemp(join(tmpdir(), 'edge-net-bench-cluster-'))
  const children: NodeProcess[] = []
  let host: NodeHost | undefined
  try {
    const { dirs, ids, network } = await makeNetwork(root, opts.nodes, 1, 'bench-cluster')
    children.push(spawnNode(dirs[0] as string, 0, { extraArgs: ['--slots', String(opts.slots)] }))
    const { addresses } = await (children[0] as NodeProcess).ready
    for (let i = 1; i < opts.nodes; i++) children.push(spawnNode(dirs[i] as string, i, { bootstrap: addresses, extraArgs: ['--slots', String(opts.slots)] }))
    await Promise.all(children.map(async c => await c.ready))
    const ledger = Ledger.create({ config: { networkId: network.networkId, genesis: network.genesis } })
    const h = await NodeHost.start({ identity: ids[opts.nodes] as Identity, ledger, bootstrap: addresses, work: false, heartbeatMs: 1000, submitter: { redundancy: 3 } })
    host = h
    const deadline = Date.now() + 60_000
    while (!(h.presence.live().length >= opts.nodes && ids.slice(0, opts.nodes).every(id => ledger.account(id.publicKey).staked > 0n))) {
      if (Date.now() > deadline) throw new Error('the cluster did not come up')
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    const key = new Uint8Array(32).fill(7)
    let phase: 'warmup' | 'window' | 'drain' = 'warmup'
    let done = 0
    let failed = 0
    const latencies: number[] = []
    const lane = async (): Promise<void> => {
      let n = 0
      while (phase !== 'drain') {
        const iv = new Uint8Array(12)
        new DataView(iv.buffer).setUint32(0, n++)
        const payload = encodeEncryptionPayload({ op: 'encrypt', key, iv, data: new Uint8Array(64).fill(n & 0xff) })
        const inWindow = phase === 'window'
        const t0 = performance.now()
        try {
          await h.node.submit({ type: 'encryption', payload, options: { timeout: 20_000 } })
          if (phase === 'window') { done++; if (inWindow) latencies.push(performance.now() - t0) }
        } catch {
          if (phase === 'window') failed++
        }
      }
    }
    const lanes = Array.from({ length: opts.inflight }, lane)
    await new Promise(resolve => setTimeout(resolve, opts.warmupMs))
    const written = (): number => process.platform === 'linux' ? children.reduce((sum, c) => sum + procFigures(c.proc.pid as number).wchar, 0) : NaN
    const w0 = written()
    phase = 'window'
    await new Promise(resolve => setTimeout(resolve, opts.windowMs))
    const w1 = written()
    phase = 'drain'
    await Promise.all(lanes)
    return { perS: done / (opts.windowMs / 1000), p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), tasks: done, failed, bytesPerTask: (w1 - w0) / done }
  } finally {
    await host?.stop().catch(() => {})
    await Promise.all(children.map(async c => await stopNode(c)))
    await rm(root, { recursive: true, force: true })
  }
}

/** Linux /proc figures of a process: bytes written through write() (sockets included), CPU ticks, resident set. */
function procFigures (pid: number): { wchar: number, cpuMs: number, rssMb: number } {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8')
  const wchar = Number(/wchar: (\d+)/.exec(io)?.[1] ?? NaN)
  // /proc/PID/stat: fields 14 and 15 are utime and stime in clock ticks (100 per second on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const cpuMs = (Number(fields[11]) + Number(fields[12])) * 10
  const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024
  return { wchar, cpuMs, rssMb }
}

/** @internal One idle node of a 3-process cluster (no tasks), watched for `ms`. */
export async function idle (ms: number): Promise<{ bytesPerMin: number, cpuPct: number, rssMb: number }> {
  const root = await mkdtemp(join(tmpdir(), 'edge-net-bench-idle-'))
  const children: NodeProcess[] = []
  try {
    const { dirs } = await makeNetwork(root, 3, 0, 'bench-idle')
    children.push(spawnNode(dirs[0] as string, 0))
    const { addresses } = await (children[0] as NodeProcess).ready
    for (let i = 1; i < 3; i++) children.push(spawnNode(dirs[i] as string, i, { bootstrap: addresses }))
    await Promise.all(children.map(async c => await c.ready))
    await new Promise(resolve => setTimeout(resolve, 15_000)) // start-up: stakes replicated, meshes formed
    const pid = (children[1] as NodeProcess).proc.pid as number
    const a = procFigures(pid)
    await new Promise(resolve => setTimeout(resolve, ms))
    const b = procFigures(pid)
    return { bytesPerMin: (b.wchar - a.wchar) / (ms / 60_000), cpuPct: (b.cpuMs - a.cpuMs) / ms * 100, rssMb: b.rssMb }
  } finally {
    await Promise.all(children.map(async c => await stopNode(c)))
    await rm(root, { recursive: true, force: true })
  }
}

export async function run (): Promise<Figure[]> {
  const figures: Figure[] = []
  const inflight = Number(process.env.BENCH_NET_INFLIGHT ?? 16)
  const slots = Number(process.env.BENCH_NET_SLOTS ?? 8)
  // Throughput under load (many tasks in flight), latency alone (one at a time): a loaded queue's
  // latency measures the queue, not the network.
  const heavy = await cluster({ nodes: 5, warmupMs: 3000, windowMs: 10_000, inflight, slots })
  const light = await cluster({ nodes: 5, warmupMs: 2000, windowMs: 8_000, inflight: 1, slots })
  const setup = `5 \`edge-net node\` processes on loopback (libp2p TCP, Noise, Yamux, gossipsub; ${slots} task slots each) + an in-process submitting node, redundancy 3, 64-byte AES-GCM tasks, all on this 2-core machine`
  figures.push(
    { key: 'network.tasks_per_s', value: Math.round(heavy.perS * 10) / 10, unit: 'tasks/s', goal: '>= 100', met: heavy.perS >= 100, note: `${setup}; ${inflight} in flight, ${heavy.tasks} tasks verified in a 10 s window after 3 s warm-up (${heavy.failed} failed); latency under this load p50 ${Math.round(heavy.p50)} ms, p99 ${Math.round(heavy.p99)} ms` },
    { key: 'network.p50_ms', value: Math.round(light.p50 * 10) / 10, unit: 'ms', goal: '< 20', met: light.p50 < 20, note: `submit → verified output, one task at a time (${light.tasks} tasks in 8 s), same cluster` },
    { key: 'network.p99_ms', value: Math.round(light.p99 * 10) / 10, unit: 'ms', note: 'same run, one task at a time' }
  )
  if (Number.isFinite(heavy.bytesPerTask)) {
    figures.push({ key: 'network.bytes_per_task', value: Math.round(heavy.bytesPerTask), unit: 'bytes/task', note: `the throughput run: bytes the 5 node processes wrote through write() per verified task (/proc wchar: their network sends plus their SQLite ledger writes, so an upper bound on network bytes)` })
  }
  if (process.platform === 'linux') {
    const idleMs = Number(process.env.BENCH_NET_IDLE_MS ?? 60_000)
    const i = await idle(idleMs)
    const how = `one \`edge-net node\` process of an idle 3-node loopback cluster (heartbeats every 15 s; anti-entropy looked for every 5 s but only with a peer whose heartbeat root differs, so none once roots agree; libp2p connection pings every 60 s, Yamux keepalive, DHT and gossipsub upkeep; no kernel worker until a task comes), watched for ${idleMs / 1000} s after a 15 s start-up, from /proc`
    figures.push(
      { key: 'network.idle_bytes_per_min', value: Math.round(i.bytesPerMin), unit: 'bytes/min', goal: '< 10240', met: i.bytesPerMin < 10240, note: `${how}: bytes the process wrote through write() (wchar: its sockets, plus any log or database writes, so an upper bound on what it sends)` },
      { key: 'network.idle_cpu_pct', value: Math.round(i.cpuPct * 100) / 100, unit: '% of one core', goal: '< 2', met: i.cpuPct < 2, note: how },
      { key: 'network.idle_rss_mb', value: Math.round(i.rssMb * 10) / 10, unit: 'MB', goal: '< 80', met: i.rssMb < 80, note: `${how}: resident set at the end (VmRSS, started by bin/edge-net.js: compile cache on, 4 MB semi-spaces; it counts the ~58 MB of Node binary pages every node process shares; breakdown in docs/network.md "An idle node")` }
    )
  }
  const nodes = Number(process.env.BENCH_NET_NODES ?? 20)
  const events = Number(process.env.BENCH_NET_EVENTS ?? 10_000)
  const c = await converge({ nodes, events })
  const p99 = percentile(c.perNodeMs, 0.99)
  const bound = (nodes - 1) * events / c.verifyPerS * 1000
  figures.push({
    key: 'network.converge_p99_ms',
    value: Math.round(p99),
    unit: 'ms',
    goal: '< 1000',
    met: p99 < 1000,
    note: `${nodes} libp2p nodes in one process, burst of ${events} transfers appended in ${Math.round(c.appendMs)} ms; time from the last append until each node holds all of them: p50 ${Math.round(percentile(c.perNodeMs, 0.5))} ms, max ${Math.round(Math.max(...c.perNodeMs))} ms. ` +
      `Every replica verifies every event: ${nodes - 1} × ${events} verifications at ${Math.round(c.verifyPerS)}/s measured here = ${Math.round(bound)} ms of signature checking on this machine's 2 cores alone, shared by all ${nodes} nodes (each real node has its own CPU)`
  })
  return figures
}
