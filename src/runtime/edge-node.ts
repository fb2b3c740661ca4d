/**
 * EdgeNode: one participant of an edge-net network, submitter and worker at once (seed 001 §7).
 * The only place that wires the core to adapters: an identity, a ledger replica, a transport, a
 * clock and a task runner go in; `submit`, `stats`, `pause`/`resume`/`stop` and typed events come
 * out.
 *
 * @example
 * const node = await EdgeNode.create({ identity, ledger, transport })
 * node.on('credit:earned', ({ amount }) => console.log(`earned ${amount} µcr`))
 * const { output, cost, workers, verified } = await node.submit({ type: 'encryption', payload })
 */
import { toKey } from '../core/bytes.ts'
import { creditsAsNumber } from '../core/economy/index.ts'
import type { TaskType } from '../core/economy/index.ts'
import type { Identity } from '../core/identity/index.ts'
import { KERNELS } from '../core/kernels/index.ts'
import type { Kernel } from '../core/kernels/index.ts'
import type { Ledger } from '../core/ledger/index.ts'
import { TaskError, openTaskMessage } from '../core/tasks/index.ts'
import type { TaskMessage } from '../core/tasks/index.ts'
import type { Clock, MessageHandler, Transport } from '../ports.ts'
import { RuntimeContext, TASK_DIRECT_TOPIC, TASK_TOPIC } from './context.ts'
import type { EdgeNodeEventName, EdgeNodeEvents, TaskRunner } from './context.ts'
import { SubmitterRole } from './submitter-role.ts'
import type { SubmitRequest, SubmitResult, SubmitterOptions } from './submitter-role.ts'
import { WorkerRole } from './worker-role.ts'
import type { WorkerOptions } from './worker-role.ts'

/** What an EdgeNode is built from. */
export interface EdgeNodeInit {
  readonly identity: Identity
  /** This node's ledger replica (its networkId is the node's network). */
  readonly ledger: Ledger
  readonly transport: Transport
  readonly clock?: Clock
  /** Kernels by task type (default: every kernel of this build). */
  readonly kernels?: Partial<Record<TaskType, Kernel>>
  /** Where kernels run (default: in this thread; pass a worker pool in production). */
  readonly runner?: TaskRunner
  readonly worker?: WorkerOptions
  readonly submitter?: SubmitterOptions
  /** Uniform [0, 1) source for policy draws (spot-checks, replication). Default: crypto. */
  readonly random?: () => number
  /** Random bytes for seeds and nonces. Default: crypto.getRandomValues. */
  readonly randomBytes?: (n: number) => Uint8Array
  /** How often open tasks are advanced (default 10 ms). */
  readonly tickMs?: number
  /** Seed 001 §7.1's callbacks, as shorthands for `on('credit:earned')`, `on('task:assigned')` and `on('error')`. */
  readonly onCredit?: (earned: bigint, total: number) => void
  readonly onTask?: (task: { task: Uint8Array, type: TaskType }) => void
  readonly onError?: (error: unknown) => void
  /**
   * Messages on topics the task protocol does not use (the ledger's gossip and sync, heartbeats):
   * a Transport has one handler, and the node owns it, so a host passes the other protocols' here.
   */
  readonly onOtherMessage?: MessageHandler
  /**
   * A peer sent a task message or announcement that is malformed or forged (it was dropped). `from`
   * is the transport's sender: proven on an authenticated transport, so a host can penalize it.
   */
  readonly onBadMessage?: (from: Uint8Array, error: TaskError) => void
}

/** `stats()` (seed 001 §7.1, plus the task system's counters). */
export interface EdgeNodeStats {
  /** Spendable credits (real + trial), in credits. */
  credits: number
  tasksCompleted: number
  /** Seconds since start. */
  uptime: number
  /** Composite reputation in [0, 1], as this node's ledger replica scores it. */
  reputation: number
  /** Tasks this node submitted that have not settled yet. */
  pending: number
  /** This node's results others judged wrong (mismatch and failed spot-check observations). */
  invalid: number
  /** Tasks this node submitted that expired. */
  timedOut: number
}

function cryptoRandom (): number {
  const b = new Uint32Array(2)
  crypto.getRandomValues(b)
  return ((b[0] as number) * 2 ** 21 + ((b[1] as number) >>> 11)) / 2 ** 53
}

export class EdgeNode {
  readonly identity: Identity
  readonly ledger: Ledger
  readonly #ctx: RuntimeContext
  readonly #worker: WorkerRole
  readonly #submitter: SubmitterRole
  readonly #events = new EventTarget()
  readonly #started: number
  #timer: ReturnType<typeof setInterval> | null = null
  #stopped = false

  private constructor (init: EdgeNodeInit) {
    const clock = init.clock ?? { now: () => Date.now() }
    const kernels = init.kernels ?? KERNELS
    this.identity = init.identity
    this.ledger = init.ledger
    this.#ctx = new RuntimeContext({
      identity: init.identity,
      ledger: init.ledger,
      transport: init.transport,
      clock,
      kernels,
      runner: init.runner ?? { run: async (type, payload) => await this.#ctx.kernel(type).run(payload) },
      random: init.random ?? cryptoRandom,
      randomBytes: init.randomBytes ?? ((n) => crypto.getRandomValues(new Uint8Array(n))),
      emit: (name, detail) => { this.#events.dispatchEvent(new CustomEvent(name, { detail })) }
    })
    this.#worker = new WorkerRole(this.#ctx, init.worker)
    this.#submitter = new SubmitterRole(this.#ctx, init.submitter)
    this.#started = clock.now()
    const bad = (from: Uint8Array, error: unknown): void => { if (error instanceof TaskError) init.onBadMessage?.(from, error) }
    init.transport.onMessage((from, topic, data) => {
      if (topic === TASK_DIRECT_TOPIC) void this.#receive(data, init.transport.authenticated ? from : undefined).catch(error => { bad(from, error) })
      else if (topic === TASK_TOPIC) { if (!this.#stopped) void this.#worker.onAnnounce(data).catch(error => { bad(from, error) }) } // malformed: dropped
      else init.onOtherMessage?.(from, topic, data)
    })
    // A lost link: the submitter stops waiting for that worker's running assignments.
    init.transport.onPeerDown?.((peer) => { if (!this.#stopped) this.#submitter.onWorkerDown(peer) })
    if (init.onCredit !== undefined) { const f = init.onCredit; this.on('credit:earned', ({ amount }) => { f(amount, this.stats().credits) }) }
    if (init.onTask !== undefined) { const f = init.onTask; this.on('task:assigned', d => { f(d) }) }
    if (init.onError !== undefined) { const f = init.onError; this.on('error', ({ error }) => { f(error) }) }
    const tickMs = init.tickMs ?? 10
    this.#timer = setInterval(() => { this.#tick() }, tickMs)
  }

  /** Start a node. @example const node = await EdgeNode.create({ identity, ledger, transport }) */
  static async create (init: EdgeNodeInit): Promise<EdgeNode> {
    return new EdgeNode(init)
  }

  /** This node's public key. */
  get publicKey (): Uint8Array { return this.identity.publicKey }

  /** Listen to a typed event. Returns a function that removes the listener. */
  on<K extends EdgeNodeEventName> (name: K, listener: (detail: EdgeNodeEvents[K]) => void): () => void {
    const wrapped = (e: Event): void => { listener((e as CustomEvent<EdgeNodeEvents[K]>).detail) }
    this.#events.addEventListener(name, wrapped)
    return () => { this.#events.removeEventListener(name, wrapped) }
  }

  /**
   * Submit a task and wait for its verified output. Bad input throws (KernelError, TaskError)
   * before anything is reserved; a task that cannot be verified in time rejects with
   * ERR_TASK_EXPIRED or ERR_TASK_NOT_VERIFIED and its escrow is released in full.
   */
  async submit (request: SubmitRequest): Promise<SubmitResult> {
    if (this.#stopped) throw new TaskError('ERR_TASK_STOPPED', 'this node is stopped')
    return await this.#submitter.submit(request)
  }

  /** Submit several tasks at once; each settles or fails on its own. */
  async submitBatch (requests: readonly SubmitRequest[]): Promise<Array<PromiseSettledResult<SubmitResult>>> {
    return await Promise.allSettled(requests.map(async r => await this.submit(r)))
  }

  stats (): EdgeNodeStats {
    const me = this.identity.publicKey
    const state = this.ledger.chainState(me)
    let invalid = 0
    for (const kinds of this.ledger.observationsOf(me).values()) invalid += (kinds.get('task_mismatch') ?? 0) + (kinds.get('spot_fail') ?? 0)
    return {
      credits: creditsAsNumber((state?.balance ?? 0n) + (state?.trial ?? 0n)),
      tasksCompleted: this.#worker.tasksCompleted,
      uptime: Math.floor((this.#ctx.clock.now() - this.#started) / 1000),
      reputation: this.ledger.reputation(me).composite,
      pending: this.#submitter.pending,
      invalid,
      timedOut: this.#submitter.timedOut
    }
  }

  /** Counters of the submitter side (for simulations and dashboards). */
  get submitterCounters (): { settled: number, failed: number, timedOut: number, replicasAssigned: number } {
    const s = this.#submitter
    return { settled: s.settled, failed: s.failed, timedOut: s.timedOut, replicasAssigned: s.replicasAssigned }
  }

  /** Adaptive replication state of this submitter. */
  get replication (): SubmitterRole['replication'] { return this.#submitter.replication }

  /** Stop claiming new work (tasks already running finish). */
  pause (): void { this.#worker.paused = true }
  resume (): void { this.#worker.paused = false }
  get paused (): boolean { return this.#worker.paused }

  /** Seed 001 §7.1's name for {@link stop}. */
  async disconnect (): Promise<void> { await this.stop() }

  /** Leave the network: open submissions reject with ERR_TASK_STOPPED and release their escrow. */
  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    await this.#submitter.stop()
    await this.#ctx.transport.close()
  }

  #tick (): void {
    const now = this.#ctx.clock.now()
    this.#submitter.tick(now)
    this.#worker.tick(now)
  }

  async #receive (data: Uint8Array, authenticatedSender: Uint8Array | undefined): Promise<void> {
    if (this.#stopped) return
    // Malformed or forged: dropped, and the error goes to onBadMessage (the caller's catch).
    const msg: TaskMessage = await openTaskMessage(this.#ctx.networkId, data, authenticatedSender)
    try {
      switch (msg.kind) {
        case 'assign': await this.#worker.onAssign(msg); break
        case 'open': await this.#worker.onOpen(msg); break
        case 'certify': await this.#worker.onCertify(msg); break
        case 'attest': await this.#worker.onAttest(msg); break
        case 'settled': await this.#worker.onSettled(msg); break
        case 'cancel': this.#worker.onCancel(msg); break
        default: await this.#submitter.onMessage(msg)
      }
    } catch (error) {
      // A box that does not open or a bad key binding (sealed.ts) is the sender's malformed message:
      // it goes to onBadMessage like one that does not decode. Other refusals are dropped quietly.
      if (error instanceof TaskError && error.code === 'ERR_TASK_BAD_MESSAGE') throw error
      if (!(error instanceof TaskError)) this.#ctx.emit('error', { error })
    }
  }

  /** @internal for tests: the key of this node. */
  get key (): string { return toKey(this.identity.publicKey) }
}
