/**
 * The worker half of an EdgeNode: claims announced tasks it may run, executes what it is assigned,
 * commits, reveals when the submitter opens the reveal phase, endorses the settle event of each
 * batch that pays it (if the results it is paid for are its own), attests against proven
 * outliers, and mints its reward once per batch.
 *
 * A worker claims only while it is not paused, has the minimum stake, accepts the task's type and
 * is under its concurrency limit (claims outstanding count toward the limit until assigned or
 * `claimTtlMs` passes): that limit is its rate limit. A claim past `claimTtlMs` lapses: it no
 * longer counts, but an assignment that still comes for it is run (the submitter drew us and
 * waits for our commit until the commit phase ends; ignoring a late assignment on a loaded
 * machine left a task without results for 70 % of its lifetime).
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { equalBytes, toKey } from '../core/bytes.ts'
import type { TaskType } from '../core/economy/index.ts'
import { applyMultiplier, DEFAULT_STAKE_PER_CLAIM, networkHours } from '../core/economy/index.ts'
import { attestationStatement, batchStatement, resultStatement } from '../core/ledger/index.ts'
import type { LedgerEvent, SettleItem } from '../core/ledger/index.ts'
import { commitment, decodeBatchSignatures, openPayload, payloadMatches, phases, readEnvelope, sealReveal, seedMatches } from '../core/tasks/index.ts'
import type { TaskEnvelope, TaskMessage } from '../core/tasks/index.ts'
import type { RuntimeContext } from './context.ts'

/**
 * How a worker behaves. Honest by default; the other behaviours exist for simulations and tests of
 * the verification system (they are what an attacker could run, not features).
 */
export interface WorkerBehaviour {
  /** Return the result to commit, or null to stay silent. `honest` computes the true result. */
  result?: (env: TaskEnvelope, payload: Uint8Array, honest: () => Promise<Uint8Array>) => Promise<Uint8Array | null>
  /** A copier: commits without computing, then reveals another worker's result if it can see one. */
  copy?: (task: Uint8Array) => Uint8Array | undefined
}

/** Worker options. @example { types: ['encryption'], maxConcurrent: 2 } */
export interface WorkerOptions {
  /** Run tasks for others (default true). */
  readonly enabled?: boolean
  /** Task types this worker accepts (default: every type it has a kernel for). */
  readonly types?: readonly TaskType[]
  /** Tasks claimed or running at once (default 2). */
  readonly maxConcurrent?: number
  /** How long an unanswered claim counts toward the limit (default 3 s; the submitter releases claims it does not draw at once). */
  readonly claimTtlMs?: number
  readonly behaviour?: WorkerBehaviour
}

/** Most announced-but-unclaimed tasks a worker remembers. */
const BACKLOG_LIMIT = 256
/** How long an announcement stays worth claiming from the backlog (ms). */
const BACKLOG_FRESH_MS = 250
/** The least claim rate a worker backs off to. */
const MIN_CLAIM_RATE = 0.05

interface Job {
  env: TaskEnvelope
  state: 'claimed' | 'lapsed' | 'running' | 'committed' | 'revealed'
  claimedAt: number
  result?: Uint8Array
  nonce?: Uint8Array
}

/** @internal */
export class WorkerRole {
  readonly #ctx: RuntimeContext
  readonly #options: Required<Omit<WorkerOptions, 'types' | 'behaviour'>> & { types: readonly TaskType[] | undefined, behaviour: WorkerBehaviour | undefined }
  readonly #jobs = new Map<string, Job>()
  /** Announced tasks this worker could not claim yet (it was busy), oldest first, bounded. */
  readonly #backlog = new Map<string, { env: TaskEnvelope, seenAt: number }>()
  paused = false
  /**
   * Chance of claiming an announced task. Every free worker claiming every task floods submitters
   * with claims they must refuse, so each worker backs off on refusals and speeds up on
   * assignments (additive increase, multiplicative decrease, as TCP does with its window); a task
   * that still lacks workers is announced again. It applies only while the worker has a claim or
   * a run in hand: an idle worker claims every task it can take.
   */
  claimRate = 1
  tasksCompleted = 0
  invalid = 0

  constructor (ctx: RuntimeContext, options: WorkerOptions = {}) {
    this.#ctx = ctx
    this.#options = { enabled: options.enabled ?? true, maxConcurrent: options.maxConcurrent ?? 2, claimTtlMs: options.claimTtlMs ?? 3000, types: options.types, behaviour: options.behaviour }
    if (!Number.isSafeInteger(this.#options.maxConcurrent) || this.#options.maxConcurrent < 1) throw new RangeError('maxConcurrent must be a positive integer')
  }

  /** Tasks claimed or running (committed ones wait for the submitter and use no CPU). */
  get busy (): number {
    let n = 0
    for (const job of this.#jobs.values()) if (job.state === 'claimed' || job.state === 'running') n++
    return n
  }

  #accepts (type: TaskType): boolean {
    if (this.#options.types !== undefined && !this.#options.types.includes(type)) return false
    return Object.hasOwn(this.#ctx.kernels, type)
  }

  /** Staked enough to work, with room for one more claim's stake at risk (DEFAULT_STAKE_PER_CLAIM each). */
  #staked (): boolean {
    const { ledger, identity } = this.#ctx
    const stake = ledger.account(identity.publicKey).effectiveStake
    return stake >= ledger.config.minStake && BigInt(this.busy + 1) * DEFAULT_STAKE_PER_CLAIM <= stake
  }

  /**
   * Submitters draw only workers whose stake stays locked past the task's deadline. A stake event
   * restarts the lock on the whole stake, so a worker whose lock nears its end stakes one more
   * micro-credit (once per refresh).
   */
  #refreshStakeLock (now: number): void {
    if (this.#refreshing || !this.#options.enabled || this.paused) return
    const { ledger, identity } = this.#ctx
    const state = ledger.chainState(identity.publicKey)
    if (state === undefined || state.staked === 0n || state.balance < 1n) return
    if (state.stakeUnlockAt - now > ledger.config.stakeLockMs / 2) return
    this.#refreshing = true
    void ledger.append(identity, 'stake', { amount: 1n }, { time: now, now })
      .catch(error => this.#ctx.emit('error', { error }))
      .finally(() => { this.#refreshing = false })
  }

  #refreshing = false

  /** Drop stale claims and finished jobs; claim from the backlog when there is room. */
  tick (now: number): void {
    this.#refreshStakeLock(now)
    for (const [key, job] of this.#jobs) {
      if (job.state === 'claimed' && now >= job.claimedAt + this.#options.claimTtlMs) job.state = 'lapsed'
      else if (now >= job.env.deadline + 60_000) this.#jobs.delete(key)
    }
    // Oldest first (first come, first served). An announcement older than BACKLOG_FRESH_MS is most
    // likely staffed already; the submitter announces again if it still needs workers.
    for (const [key, { env, seenAt }] of this.#backlog) {
      if (now - seenAt > BACKLOG_FRESH_MS) { this.#backlog.delete(key); continue }
      if (this.busy >= this.#options.maxConcurrent || this.paused) break
      this.#backlog.delete(key)
      void this.#claim(env, now).catch(error => this.#ctx.emit('error', { error }))
    }
  }

  /** A gossiped envelope: claimed, or filed when busy (its signature: see onAssign). */
  async onAnnounce (bytes: Uint8Array): Promise<void> {
    if (!this.#options.enabled || this.paused) return
    const env = readEnvelope(this.#ctx.networkId, bytes)
    if (equalBytes(env.submitter, this.#ctx.identity.publicKey) || !this.#accepts(env.type)) return
    const now = this.#ctx.clock.now()
    // An idle worker always claims: the back-off exists to spare a busy network claims it must
    // refuse, and an idle worker's claim costs one message. Backed-off idle workers left a lone
    // task short of claims until the end of its claim window (50 ms of a ~60 ms task, issue 4 §6).
    if (this.busy > 0 && this.#ctx.random() >= this.claimRate) return
    if (this.busy >= this.#options.maxConcurrent) {
      this.#backlog.delete(toKey(env.id)) // a re-announcement moves to the back, fresh
      this.#backlog.set(toKey(env.id), { env, seenAt: now })
      if (this.#backlog.size > BACKLOG_LIMIT) this.#backlog.delete(this.#backlog.keys().next().value as string)
      return
    }
    await this.#claim(env, now)
  }

  async #claim (env: TaskEnvelope, now: number): Promise<void> {
    const key = toKey(env.id)
    // Claim only while a run still fits: a replacement gets at least a tenth of the commit phase (coordinator.ts).
    const held = this.#jobs.get(key)
    if ((held !== undefined && held.state !== 'lapsed') || now + (phases(env).commitBy - env.created) * 0.1 > phases(env).commitBy || !this.#staked()) return
    this.#jobs.set(key, { env, state: 'claimed', claimedAt: now })
    // The claim carries what the submitter needs to seal the payload to this worker (sealed.ts).
    await this.#ctx.send(env.submitter, 'claim', env.id, { agree: this.#ctx.identity.agreementPublicKey, binding: await this.#ctx.box.binding() })
    this.#ctx.emit('task:claimed', { task: env.id, type: env.type, submitter: env.submitter })
  }

  async onAssign (msg: TaskMessage<'assign'>): Promise<void> {
    const job = this.#jobs.get(toKey(msg.task))
    if (job === undefined || (job.state !== 'claimed' && job.state !== 'lapsed') || !equalBytes(msg.from, job.env.submitter)) return
    const { env } = job
    const me = this.#ctx.identity.publicKey
    // The submitter must draw from the randomness it committed to, name us, and send the payload it
    // signed for. The envelope's own signature needs no check here: this assignment comes from the
    // envelope's submitter (proven by the transport, or by the message's signature) and names the
    // envelope's id, the hash of every signed field, and a submitter assigns only its own tasks. So
    // the envelope this worker holds is the one its submitter signed (and its `agreement` key, which
    // the payload opens from, the submitter's own); a forged or altered announcement costs a claim
    // the submitter refuses, never a run.
    if (!seedMatches(env.seedCommit, msg.body.seed) || !msg.body.workers.some(w => equalBytes(w, me))) {
      this.#jobs.delete(toKey(msg.task))
      return
    }
    job.state = 'running' // before the first await: a duplicated assignment finds the job taken
    let payload: Uint8Array
    try {
      payload = await openPayload(this.#ctx.box, env, msg.body.sealed)
    } catch (error) {
      this.#jobs.delete(toKey(msg.task))
      throw error // ERR_TASK_BAD_MESSAGE: the submitter sent a box that does not open
    }
    if (!payloadMatches(env, payload)) {
      this.#jobs.delete(toKey(msg.task))
      return
    }
    this.claimRate = Math.min(1, this.claimRate + 0.1)
    this.#ctx.emit('task:assigned', { task: env.id, type: env.type })
    const behaviour = this.#options.behaviour
    let result: Uint8Array | null
    try {
      if (behaviour?.copy !== undefined) {
        result = this.#ctx.randomBytes(32) // commits to noise; hopes to reveal a copy later
      } else {
        const honest = async (): Promise<Uint8Array> => await this.#ctx.runner.run(env.type, payload, { deadlineMs: Math.max(1, phases(env).commitBy - this.#ctx.clock.now()) })
        result = behaviour?.result !== undefined ? await behaviour.result(env, payload, honest) : await honest()
      }
    } catch (error) {
      this.#jobs.delete(toKey(env.id))
      this.#ctx.emit('error', { error })
      return
    }
    if (result === null || !this.#jobs.has(toKey(env.id))) return
    const nonce = this.#ctx.randomBytes(32)
    job.result = result
    job.nonce = nonce
    job.state = 'committed'
    await this.#ctx.send(env.submitter, 'commit', env.id, { commitment: commitment(this.#ctx.networkId, env.id, me, result, nonce) })
    this.tasksCompleted++
    this.#ctx.emit('task:completed', { task: env.id, type: env.type })
  }

  async onOpen (msg: TaskMessage<'open'>): Promise<void> {
    const job = this.#jobs.get(toKey(msg.task))
    if (job === undefined || job.state !== 'committed' || !equalBytes(msg.from, job.env.submitter)) return
    job.state = 'revealed'
    const copied = this.#options.behaviour?.copy?.(job.env.id)
    const result = copied ?? (job.result as Uint8Array)
    if (copied !== undefined) job.result = copied
    const resultSig = await this.#ctx.identity.sign(resultStatement(this.#ctx.networkId, job.env.id, sha256(result)))
    const sealed = await sealReveal(this.#ctx.box, job.env, { result, nonce: job.nonce as Uint8Array, resultSig })
    await this.#ctx.send(job.env.submitter, 'reveal', job.env.id, { sealed })
  }

  /**
   * A batch's settle event, to endorse. The worker signs only if the event is the submitter's
   * settlement and every task it pays this worker for is one this worker revealed, with this
   * worker's own result digest: its signature vouches for its own work, nothing else.
   */
  async onCertify (msg: TaskMessage<'certify'>): Promise<void> {
    const { ledger, identity, networkId } = this.#ctx
    if (ledger.event(msg.task) === undefined) await ledger.ingest(msg.body.event)
    const settle = ledger.event(msg.task)
    if (settle?.type !== 'settle' || !equalBytes(settle.author, msg.from)) return
    const mine = this.#paidTasks(settle as LedgerEvent<'settle'>)
    if (mine.length === 0) return
    for (const item of mine) {
      const job = this.#jobs.get(toKey(item.task))
      if (job?.result === undefined || job.state !== 'revealed' || !equalBytes(job.env.submitter, msg.from) || !equalBytes(sha256(job.result), item.result)) return
    }
    const sig = await identity.sign(batchStatement(networkId, settle.id))
    await this.#ctx.send(msg.from, 'endorse', settle.id, { sig })
  }

  /** The items of a settle event that pay this worker. */
  #paidTasks (settle: LedgerEvent<'settle'>): SettleItem[] {
    const me = this.#ctx.identity.publicKey
    return settle.body.items.filter(item => item.pay.some(([payee]) => equalBytes(payee, me)))
  }

  async onAttest (msg: TaskMessage<'attest'>): Promise<void> {
    const job = this.#jobs.get(toKey(msg.task))
    if (job?.result === undefined || !equalBytes(msg.from, job.env.submitter)) return
    const { offender, claim, digest } = msg.body
    // Attest only to what this worker knows: its own result is `digest`, and the offender's differs.
    if (!equalBytes(sha256(job.result), digest) || equalBytes(claim, digest)) return
    const sig = await this.#ctx.identity.sign(attestationStatement(this.#ctx.networkId, offender, 'InvalidResult', { task: job.env.id, digest, claim }))
    await this.#ctx.send(job.env.submitter, 'attested', job.env.id, { offender, sig })
  }

  /** The batch's endorsements: mint this worker's reward on what the batch paid it (once per batch). */
  async onSettled (msg: TaskMessage<'settled'>): Promise<void> {
    const { ledger, identity } = this.#ctx
    const settle = ledger.event(msg.task)
    if (settle?.type !== 'settle' || !equalBytes(settle.author, msg.from)) return
    const mine = this.#paidTasks(settle as LedgerEvent<'settle'>)
    if (mine.length === 0) return
    for (const item of mine) this.#jobs.delete(toKey(item.task))
    const me = identity.publicKey
    let paid = 0n
    let real = 0n
    for (const item of mine) {
      for (const [payee, amount, trial] of item.pay) if (equalBytes(payee, me)) { paid += amount; real += amount - trial }
    }
    this.#ctx.emit('credit:earned', { task: settle.id, amount: paid, kind: 'payment' })
    // Trial-funded work is paid but never mints; minting needs the minimum stake.
    if (real === 0n || ledger.account(me).staked < ledger.config.minStake) return
    const sigs = decodeBatchSignatures(msg.body.sigs)
    const total = (settle as LedgerEvent<'settle'>).body.total
    // The ledger checks the signatures and who signed when the reward is appended (and refuses a bad set).
    await ledger.append(identity, 'reward', { batch: { settle: settle.id, base: real, total, sigs } }, { deps: [settle.id], time: this.#ctx.clock.now() })
    this.#ctx.emit('credit:earned', { task: settle.id, amount: applyMultiplier(real, networkHours(total), ledger.config.multiplier), kind: 'reward' })
  }

  onCancel (msg: TaskMessage<'cancel'>): void {
    const job = this.#jobs.get(toKey(msg.task))
    if (job === undefined || !equalBytes(msg.from, job.env.submitter)) return
    if (job.state === 'claimed' || job.state === 'lapsed') this.claimRate = Math.max(MIN_CLAIM_RATE, this.claimRate * 0.8)
    this.#jobs.delete(toKey(msg.task))
  }
}
