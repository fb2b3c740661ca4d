/**
 * NodeHost: one edge-net node as a Node.js process runs it (issue 4 §2). It wires the runtime to
 * the real adapters: the libp2p transport (TCP, Noise, Yamux, gossipsub), the ledger replica the
 * caller opened (SQLite in a data directory), the ledger's gossip and Merkle-range anti-entropy
 * (LedgerSync), signed heartbeats and the live set (Presence), and a worker_threads pool with a
 * duty-cycle throttle for the kernels.
 *
 *   events appended here  ──announce──▶  gossip on LEDGER_TOPIC  ──▶  peers ingest
 *   a peer becomes live   ──────────────▶  a sync session with it
 *   every syncIntervalMs  ──────────────▶  a session with a random peer whose heartbeat root differs from ours (aimed-sync.ts)
 *   a peer goes silent    ──────────────▶  dropped from the live set and from sync's peer list
 *
 * @example
 * const host = await NodeHost.start({ identity, ledger, listen: ['/ip4/127.0.0.1/tcp/0'] })
 * console.log(host.addresses())
 * await host.stop()
 */
import { toKey } from '../core/bytes.ts'
import type { TaskType } from '../core/economy/index.ts'
import type { Identity } from '../core/identity/index.ts'
import { Account } from '../core/ledger/index.ts'
import type { Ledger } from '../core/ledger/index.ts'
import { Libp2pTransport } from '../adapters/libp2p/index.ts'
import { WorkerThreadsPool } from '../adapters/workers/index.ts'
import { TASK_DIRECT_TOPIC, TASK_TOPIC } from '../runtime/context.ts'
import { EdgeNode } from '../runtime/edge-node.ts'
import type { SubmitterOptions } from '../runtime/submitter-role.ts'
import type { WorkerBehaviour } from '../runtime/worker-role.ts'
import { LEDGER_SYNC_TOPIC, LEDGER_TOPIC, LedgerSync } from '../runtime/ledger-sync.ts'
import { HEARTBEAT_TOPIC, Presence } from '../runtime/presence.ts'
import { startAimedSync } from './aimed-sync.ts'

/** What a host is started with. */
export interface NodeHostInit {
  readonly identity: Identity
  /** The node's ledger replica, opened by the caller (and closed by it after `stop`). */
  readonly ledger: Ledger
  /** Multiaddrs to listen on (default a free loopback TCP port). */
  readonly listen?: readonly string[]
  /** Multiaddrs with /p2p/<peer id> to dial at start. */
  readonly bootstrap?: readonly string[]
  /** Discover peers on the LAN (default false here; the CLI turns it on unless --no-mdns). */
  readonly mdns?: boolean
  /** Find peers through the Kademlia DHT (default true). */
  readonly dht?: boolean
  /** Offer circuit relay v2 to browsers and NATed peers (default false). */
  readonly relay?: boolean
  /** Our reputation of a peer in [0, 1], fed to gossipsub's peer score (default: this ledger's view). */
  readonly scoreOf?: (peer: Uint8Array) => number
  /** CPU share for kernels, 0.1..1 (the pool's duty cycle; default 1). */
  readonly cpu?: number
  /** Kernel threads (default 1). */
  readonly threads?: number
  /** A kernel worker with no task for this long ends; the next task starts one (default 60 000 ms). */
  readonly workerIdleMs?: number
  /** Task types this node runs (default all it has kernels for). */
  readonly tasks?: readonly TaskType[]
  /** Run tasks for others (default true). */
  readonly work?: boolean
  /** Tasks claimed or running at once (default 2 × threads). */
  readonly maxConcurrent?: number
  readonly submitter?: SubmitterOptions
  /** How this node's worker behaves: honest unless a demo or test makes it lie. */
  readonly behaviour?: WorkerBehaviour
  /** Stake up to this many micro-credits at start, from the spendable balance (default: the network's minimum stake, if affordable). */
  readonly stake?: bigint
  /** Heartbeat period (default Presence's, 15 s). */
  readonly heartbeatMs?: number
  readonly staleMs?: number
  /** How often anti-entropy looks for a peer whose heartbeat root differs from ours (default 5000 ms). */
  readonly syncIntervalMs?: number
  readonly onError?: (error: unknown) => void
}

/** A peer's view for status pages. */
export interface HostPeer { id: Uint8Array, live: boolean, lastSeen: number, tasks: number, paused: boolean, events: number, root: Uint8Array }

export class NodeHost {
  readonly node: EdgeNode
  readonly ledger: Ledger
  readonly transport: Libp2pTransport
  readonly sync: LedgerSync
  readonly presence: Presence
  readonly pool: WorkerThreadsPool
  readonly #offAppend: () => void
  readonly #stopSync: () => void
  #stopped = false

  private constructor (parts: { node: EdgeNode, ledger: Ledger, transport: Libp2pTransport, sync: LedgerSync, presence: Presence, pool: WorkerThreadsPool, offAppend: () => void, stopSync: () => void }) {
    this.node = parts.node
    this.ledger = parts.ledger
    this.transport = parts.transport
    this.sync = parts.sync
    this.presence = parts.presence
    this.pool = parts.pool
    this.#offAppend = parts.offAppend
    this.#stopSync = parts.stopSync
  }

  /** Start the node: listen, dial the bootstrap list, replicate, beat, and take work. */
  static async start (init: NodeHostInit): Promise<NodeHost> {
    const { identity, ledger } = init
    const onError = init.onError ?? (() => {})
    const transport = await Libp2pTransport.create({
      identity,
      listen: init.listen ?? ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: init.bootstrap ?? [],
      mdns: init.mdns ?? false,
      dht: init.dht ?? true,
      relay: init.relay ?? false,
      // Gossipsub's app-specific score is our reputation of the peer in this ledger replica.
      scoreOf: init.scoreOf ?? ((peer: Uint8Array) => ledger.reputation(peer).composite),
      topics: [TASK_TOPIC, LEDGER_TOPIC, HEARTBEAT_TOPIC],
      // Task messages and ledger sync on stream protocols of their own (docs/network.md).
      directTopics: [TASK_DIRECT_TOPIC, LEDGER_SYNC_TOPIC]
    })
    let sync: LedgerSync | undefined
    let presence: Presence | undefined
    let pool: WorkerThreadsPool | undefined
    try {
      // A peer that sends invalid events or forged heartbeats is penalized: graylisted by gossipsub,
      // then disconnected and refused for a while (src/adapters/libp2p/peer-scoring.ts).
      sync = new LedgerSync({ ledger, transport, onError, onInvalid: (peer, _count, error) => { transport.penalize(peer, error.code) } })
      const s = sync
      presence = new Presence({
        identity,
        networkId: ledger.config.networkId,
        transport,
        status: () => ({ tasks: node?.stats().tasksCompleted ?? 0, paused: node?.paused ?? false, events: ledger.size, root: ledger.stateRoot() }),
        ...(init.heartbeatMs === undefined ? {} : { intervalMs: init.heartbeatMs }),
        ...(init.staleMs === undefined ? {} : { staleMs: init.staleMs }),
        onLive: peer => { s.addPeer(peer); void s.syncWith(peer).catch(() => {}) },
        onRefused: peer => { transport.penalize(peer, 'invalid heartbeat') },
        onStale: peer => { s.removePeer(peer) }
      })
      const p = presence
      const threads = init.threads ?? 1
      // Kernel workers start when a task needs one and end after a minute without tasks: an idle
      // node then holds no second V8 isolate (~20-40 MB resident, bench/network.ts idle()).
      pool = WorkerThreadsPool.create({ size: threads, dutyCycle: init.cpu ?? 1, idleMs: init.workerIdleMs ?? 60_000 })
      let node: EdgeNode | undefined
      node = await EdgeNode.create({
        identity,
        ledger,
        transport,
        runner: pool,
        worker: {
          enabled: init.work ?? true,
          maxConcurrent: init.maxConcurrent ?? 2 * threads,
          ...(init.tasks === undefined ? {} : { types: init.tasks }),
          ...(init.behaviour === undefined ? {} : { behaviour: init.behaviour })
        },
        ...(init.submitter === undefined ? {} : { submitter: init.submitter }),
        onBadMessage: (from, error) => { transport.penalize(from, error.code) },
        onOtherMessage: (from, topic, data) => {
          if (topic === LEDGER_TOPIC || topic === LEDGER_SYNC_TOPIC) s.handle(from, topic, data)
          else p.handle(from, topic, data)
        },
        onError
      })
      const offAppend = ledger.onAppend(e => { s.announce(e) })
      // Catch up with whoever we reached at start, then keep replicating: anti-entropy only with
      // peers whose heartbeats show another root (aimed-sync.ts says why).
      for (const peer of transport.peers()) { s.addPeer(peer); void s.syncWith(peer).catch(() => {}) }
      const stopSync = startAimedSync({ peers: () => s.peers(), live: () => p.live(), root: () => ledger.stateRoot(), syncWith: async peer => await s.syncWith(peer), intervalMs: init.syncIntervalMs ?? 5000 })
      const host = new NodeHost({ node, ledger, transport, sync, presence, pool, offAppend, stopSync })
      p.start()
      await host.#ensureStake(init.stake).catch(onError)
      return host
    } catch (err) {
      sync?.stop()
      presence?.stop()
      await pool?.close().catch(() => {})
      await transport.close().catch(() => {})
      throw err
    }
  }

  /** Stake up to `target` (default the network minimum) from the spendable balance. */
  async #ensureStake (target: bigint | undefined): Promise<void> {
    const want = target ?? this.ledger.config.minStake
    const me = this.node.identity.publicKey
    const state = this.ledger.chainState(me)
    const staked = state?.staked ?? 0n
    if (want <= staked) return
    const spendable = state?.balance ?? 0n
    const amount = want - staked
    if (amount > spendable) return
    await new Account({ ledger: this.ledger, signer: this.node.identity, clock: { now: () => Date.now() } }).stake(amount)
  }

  /** Multiaddrs (with /p2p/) others can dial. */
  addresses (): string[] { return this.transport.addresses() }

  /** Peers heard from (live or stale), with what their heartbeats said. */
  peers (): HostPeer[] {
    return this.presence.peers().map(p => ({ id: p.id, live: p.live, lastSeen: p.lastSeen, ...p.status }))
  }

  /** Whether every live peer's last heartbeat showed this node's state root. */
  converged (): boolean {
    const root = toKey(this.ledger.stateRoot())
    return this.presence.live().every(p => toKey(p.status.root) === root)
  }

  /** Leave the network: stop beating and replicating, settle or release open tasks, close the pool and transport. */
  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.presence.stop()
    this.#stopSync()
    this.#offAppend()
    this.sync.flush()
    await this.node.stop() // settles what is verified, releases the rest, closes the transport
    this.sync.stop()
    await this.sync.close().catch(() => {})
    await this.pool.close().catch(() => {})
  }
}
