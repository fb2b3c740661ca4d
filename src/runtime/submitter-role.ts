/**
 * The submitter half of an EdgeNode: validates and prices a task, escrows its cap, announces it,
 * drives its TaskCoordinator (src/core/tasks/coordinator.ts) with the messages and the clock, and
 * carries out what the coordinator decides: assignments, the reveal call, the referee run, and
 * settlement on the ledger. Verified tasks are settled in batches (every `settleBatchMs`, or at
 * `settleBatchMax` tasks): one signed `settle` event pays every agreeing worker of every task in
 * the batch and releases the rest, one reputation event per (worker, kind) carries a count, and
 * one certificate round per batch lets the paid workers mint (one reward each per batch). Proven
 * outliers are slashed per task.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { fromKey, toKey } from '../core/bytes.ts'
import { credits, DEFAULT_STAKE_PER_CLAIM, priceTask, slashAmount, TASK_PRIORITIES } from '../core/economy/index.ts'
import type { TaskPriority, TaskType } from '../core/economy/index.ts'
import { verifyEd25519 } from '../core/identity/index.ts'
import type { BoxPeer } from '../core/identity/index.ts'
import { Account, MAX_OBSERVATION_COUNT, MAX_SETTLE_ITEMS, attestationStatement, batchStatement, resultStatement, sortSignatures, verifyAttestation, verifyBatchSignatures } from '../core/ledger/index.ts'
import type { LedgerEvent, QuorumSignature } from '../core/ledger/index.ts'
import type { ObservationKind } from '../core/reputation/index.ts'
import { AdaptiveReplication, TaskCoordinator, TaskError, claimant, createEnvelope, encodeBatchSignatures, openReveal, planPayments, sealPayload, sortKeys } from '../core/tasks/index.ts'
import type { AdaptiveReplicationOptions, CoordinatorAction, Outcome, PaymentPlan, TaskEnvelope, TaskMessage } from '../core/tasks/index.ts'
import { TASK_TOPIC } from './context.ts'
import type { RuntimeContext } from './context.ts'

/** Submitter policy. @example { redundancy: 3, spotCheckRate: 0.05 } */
export interface SubmitterOptions {
  /** Workers per task at full replication (default 3). */
  readonly redundancy?: number
  /** Probability a task is a known-answer spot-check (the submitter computes the answer first). Default 0.05. */
  readonly spotCheckRate?: number
  /** Longest wait for claims before drawing workers (default 50 ms). */
  readonly claimWindowMs?: number
  /** Default task lifetime (default 30 s). */
  readonly timeoutMs?: number
  /** Re-execute on disagreement (default true). */
  readonly referee?: boolean
  readonly replication?: AdaptiveReplicationOptions
  /** How long the certificate and attestation rounds wait for workers (default 2 s). */
  readonly roundMs?: number
  /**
   * Stake each open assignment puts at risk (default DEFAULT_STAKE_PER_CLAIM, 10 credits): a
   * worker is drawn for at most effective stake / stakePerClaim of this submitter's open tasks.
   */
  readonly stakePerClaim?: bigint
  /** Longest wait before verified tasks are settled on the ledger (default 50 ms; none when no other task is in flight). */
  readonly settleBatchMs?: number
  /** Most tasks one settle event closes (default 100, at most MAX_SETTLE_ITEMS). */
  readonly settleBatchMax?: number
}

/** What `submit` takes (seed 001 §7.2). @example { type: 'encryption', payload, options: { redundancy: 3, maxCredits: 1 } } */
export interface SubmitRequest {
  readonly type: TaskType
  /** The kernel's payload (build it with the kernel's encode helper). */
  readonly payload: Uint8Array
  readonly options?: {
    readonly priority?: TaskPriority
    readonly redundancy?: number
    /** Most to pay, in credits (default: the table price × redundancy). */
    readonly maxCredits?: number
    /** Lifetime in ms. */
    readonly timeout?: number
  }
}

/** What `submit` resolves to (seed 001 §7.2). */
export interface SubmitResult {
  readonly task: Uint8Array
  readonly output: Uint8Array
  /** Micro-credits paid. */
  readonly cost: bigint
  readonly workers: Uint8Array[]
  /** True: the output agreed among the quorum, or with a known or re-executed answer. */
  readonly verified: boolean
}

/** Signatures a round waits for, from the workers it asked (and no one else). */
interface Collector { sigs: Map<string, Uint8Array>, from: Set<string>, done: () => void }

interface Submitted {
  env: TaskEnvelope
  payload: Uint8Array
  coordinator: TaskCoordinator
  resolve: (r: SubmitResult) => void
  reject: (e: Error) => void
  attest: Map<string, Collector>
  /** The claimants' verified agreement keys: the payload is sealed to them, their reveals open from them. */
  peers: Map<string, BoxPeer>
}

/** A verified task waiting for its batch. */
interface Verified { rec: Submitted, outcome: Outcome }

/** @internal */
export class SubmitterRole {
  readonly #ctx: RuntimeContext
  readonly #options: Required<Omit<SubmitterOptions, 'replication'>>
  readonly #account: Account
  readonly replication: AdaptiveReplication
  readonly #tasks = new Map<string, Submitted>()
  /** Settled tasks whose certificate or attestation rounds are still collecting signatures. */
  readonly #settling = new Map<string, Submitted>()
  /** Micro-credits of slashes being appended, by offender (see #slash). */
  readonly #slashing = new Map<string, bigint>()
  readonly #weights = new Map<string, { weight: number, at: number }>()
  /** Open assignments per worker across this submitter's tasks (stake at risk per claim). */
  readonly #open = new Map<string, number>()
  /** Verified tasks waiting to be settled, oldest first. */
  #queue: Verified[] = []
  #batchTimer: ReturnType<typeof setTimeout> | null = null
  /** Settlements are written one batch at a time, in order. */
  #writing: Promise<void> = Promise.resolve()
  /** Batch certificate rounds collecting endorsements, by settle event id. */
  readonly #endorsements = new Map<string, Collector>()
  timedOut = 0
  failed = 0
  settled = 0
  replicasAssigned = 0

  constructor (ctx: RuntimeContext, options: SubmitterOptions = {}) {
    this.#ctx = ctx
    this.#options = {
      redundancy: options.redundancy ?? 3,
      spotCheckRate: options.spotCheckRate ?? 0.05,
      claimWindowMs: options.claimWindowMs ?? 50,
      timeoutMs: options.timeoutMs ?? 30_000,
      referee: options.referee ?? true,
      roundMs: options.roundMs ?? 2_000,
      stakePerClaim: options.stakePerClaim ?? DEFAULT_STAKE_PER_CLAIM,
      settleBatchMs: options.settleBatchMs ?? 50,
      settleBatchMax: options.settleBatchMax ?? 100
    }
    const o = this.#options
    if (!Number.isSafeInteger(o.redundancy) || o.redundancy < 1 || o.redundancy > 9) throw new TaskError('ERR_TASK_BAD_OPTIONS', 'redundancy must be 1..9')
    if (!(o.spotCheckRate >= 0 && o.spotCheckRate <= 1)) throw new TaskError('ERR_TASK_BAD_OPTIONS', 'spotCheckRate must be in [0, 1]')
    if (typeof o.stakePerClaim !== 'bigint' || o.stakePerClaim <= 0n) throw new TaskError('ERR_TASK_BAD_OPTIONS', 'stakePerClaim must be a positive bigint of micro-credits')
    if (!Number.isSafeInteger(o.settleBatchMs) || o.settleBatchMs < 0) throw new TaskError('ERR_TASK_BAD_OPTIONS', 'settleBatchMs must be a non-negative integer')
    if (!Number.isSafeInteger(o.settleBatchMax) || o.settleBatchMax < 1 || o.settleBatchMax > MAX_SETTLE_ITEMS) throw new TaskError('ERR_TASK_BAD_OPTIONS', `settleBatchMax must be 1..${MAX_SETTLE_ITEMS}`)
    this.replication = new AdaptiveReplication(options.replication)
    this.#account = new Account({ ledger: ctx.ledger, signer: ctx.identity, clock: ctx.clock })
  }

  get pending (): number { return this.#tasks.size }

  async submit (request: SubmitRequest): Promise<SubmitResult> {
    const ctx = this.#ctx
    const kernel = ctx.kernel(request.type)
    if (!(request.payload instanceof Uint8Array)) throw new TaskError('ERR_TASK_BAD_OPTIONS', 'payload must be bytes')
    const size = kernel.size(request.payload) // KernelError for bad input: nothing reserved yet
    const o = request.options ?? {}
    const priority = o.priority ?? 'normal'
    if (!(TASK_PRIORITIES as readonly string[]).includes(priority)) throw new TaskError('ERR_TASK_BAD_OPTIONS', `unknown priority '${String(priority)}'`)
    const redundancy = o.redundancy ?? this.#options.redundancy
    const timeout = o.timeout ?? this.#options.timeoutMs
    if (!Number.isSafeInteger(timeout) || timeout <= 0) throw new TaskError('ERR_TASK_BAD_OPTIONS', 'timeout must be a positive integer of ms')
    const tablePrice = priceTask({ type: request.type, size, priority }) * BigInt(Number.isSafeInteger(redundancy) && redundancy > 0 ? redundancy : 1)
    let cap = tablePrice
    if (o.maxCredits !== undefined) {
      if (typeof o.maxCredits !== 'number' || !Number.isFinite(o.maxCredits) || o.maxCredits < 0) throw new TaskError('ERR_TASK_BAD_OPTIONS', 'maxCredits must be a non-negative number of credits')
      cap = credits(o.maxCredits)
    }
    // A spot-check: the submitter computes the answer first (in its runner; before anything is
    // reserved, so a payload the kernel refuses costs nothing), and the task looks like any other.
    const known = ctx.random() < this.#options.spotCheckRate ? await ctx.runner.run(request.type, request.payload, { deadlineMs: timeout }) : undefined
    const now = ctx.clock.now()
    const seed = ctx.randomBytes(32)
    const env = await createEnvelope(ctx.identity, ctx.networkId, { type: request.type, payload: request.payload, size, cap, priority, redundancy, created: now, deadline: now + timeout, seed })
    if (!this.#account.canAfford(cap)) throw new TaskError('ERR_TASK_INSUFFICIENT_CREDITS', `the cap of ${cap} µcr exceeds what this node can spend`)
    try {
      await this.#account.reserve(env.id, cap)
    } catch (err) {
      throw new TaskError('ERR_TASK_INSUFFICIENT_CREDITS', `the escrow could not be reserved: ${(err as Error).message}`, { cause: err })
    }
    const span = env.deadline - env.created
    const coordinator = new TaskCoordinator(env, {
      networkId: ctx.networkId,
      agree: (a, b) => kernel.agree(a, b),
      seed,
      claimWindowMs: Math.min(this.#options.claimWindowMs, Math.floor(span * 0.2)),
      execTimeoutMs: Math.floor(span * 0.35),
      replicasFor: (first) => this.replication.replicas(first, env.type, redundancy, ctx.random()),
      referee: this.#options.referee,
      ...(known === undefined ? {} : { known })
    })
    const result = new Promise<SubmitResult>((resolve, reject) => {
      this.#tasks.set(toKey(env.id), { env, payload: request.payload, coordinator, resolve, reject, attest: new Map(), peers: new Map() })
    })
    ctx.emit('task:submitted', { task: env.id, type: env.type })
    ctx.transport.publish(TASK_TOPIC, env.bytes)
    return await result
  }

  #weight (worker: Uint8Array, now: number): number {
    const key = toKey(worker)
    const cached = this.#weights.get(key)
    if (cached !== undefined && now - cached.at < 1000) return cached.weight
    const { ledger } = this.#ctx
    const weight = ledger.account(worker).effectiveStake >= ledger.config.minStake ? ledger.reputation(worker).selectionWeight : 0
    this.#weights.set(key, { weight, at: now })
    return weight
  }

  /** The transport lost this worker: its running assignments are missed now and replaced. */
  onWorkerDown (worker: Uint8Array): void {
    const now = this.#ctx.clock.now()
    for (const rec of [...this.#tasks.values()]) this.#act(rec, rec.coordinator.onWorkerDown(worker, now))
  }

  tick (now: number): void {
    for (const rec of this.#tasks.values()) this.#act(rec, rec.coordinator.tick(now))
  }

  async onMessage (msg: TaskMessage): Promise<void> {
    // Endorsements name their batch's settle event, not a task.
    if (msg.kind === 'endorse') { this.#collect(this.#endorsements.get(toKey(msg.task)), msg.from, msg.body.sig); return }
    const rec = this.#tasks.get(toKey(msg.task)) ?? this.#settling.get(toKey(msg.task))
    if (rec === undefined) {
      // A claim for a task that has ended: free the worker's slot.
      if (msg.kind === 'claim') await this.#ctx.send(msg.from, 'cancel', msg.task, { reason: 'task ended' })
      return
    }
    const now = this.#ctx.clock.now()
    switch (msg.kind) {
      case 'claim': {
        const weight = this.#weight(msg.from, now)
        const atRisk = BigInt((this.#open.get(toKey(msg.from)) ?? 0) + 1) * this.#options.stakePerClaim
        // The stake must stay locked (slashable) until this task's slash could land: the lock's end
        // is read from the worker's own chain, so a stake event backdated to reopen the lock early
        // only makes the worker ineligible (docs/tasks.md, "Stake that stays at risk").
        const lockedUntil = this.#ctx.ledger.chainState(msg.from)?.stakeUnlockAt ?? 0
        if (weight > 0 && atRisk <= this.#ctx.ledger.account(msg.from).effectiveStake && lockedUntil >= rec.env.deadline + this.#options.roundMs) {
          // Its agreement key, to seal the payload to (verified once per worker; a bad binding throws ERR_TASK_BAD_MESSAGE).
          rec.peers.set(toKey(msg.from), await claimant(this.#ctx.peerKeys, msg.from, msg.body))
          this.#act(rec, rec.coordinator.onClaim(msg.from, weight, this.#ctx.clock.now()))
        }
        else await this.#ctx.send(msg.from, 'cancel', msg.task, { reason: 'stake too small or unlocked too soon for this claim' })
        return
      }
      case 'commit':
        this.#act(rec, rec.coordinator.onCommit(msg.from, msg.body.commitment, now))
        return
      case 'reveal': {
        // The reveal's sender is proven (an authenticated transport, or the message's own
        // signature). `resultSig` matters only as evidence against an outlier, so it is checked
        // only then (#slash): an agreeing worker's is never needed, and a bad one only spares
        // its author the slash, as withholding the reveal would.
        const peer = rec.peers.get(toKey(msg.from))
        if (peer === undefined) return // never claimed: nothing to open it with, and nothing it could change
        const { result, nonce, resultSig } = await openReveal(this.#ctx.box, peer, msg.task, msg.body.sealed)
        this.#act(rec, rec.coordinator.onReveal({ worker: msg.from, result, nonce, resultSig }, this.#ctx.clock.now()))
        return
      }
      case 'attested':
        this.#collect(rec.attest.get(toKey(msg.body.offender)), msg.from, msg.body.sig)
        return
      default:
    }
  }

  /** The task ended: its workers' stake is no longer at risk for it. */
  #closeAssignments (rec: Submitted): void {
    for (const w of rec.coordinator.assigned) {
      const key = toKey(w)
      const n = (this.#open.get(key) ?? 0) - 1
      if (n > 0) this.#open.set(key, n)
      else this.#open.delete(key)
    }
  }

  #collect (c: Collector | undefined, from: Uint8Array, sig: Uint8Array): void {
    const key = toKey(from)
    if (c === undefined || !c.from.has(key)) return
    c.sigs.set(key, sig)
    if (c.sigs.size >= c.from.size) c.done()
  }

  #act (rec: Submitted, actions: CoordinatorAction[]): void {
    const ctx = this.#ctx
    for (const a of actions) {
      switch (a.kind) {
        case 'assign':
          this.replicasAssigned++
          this.#open.set(toKey(a.worker), (this.#open.get(toKey(a.worker)) ?? 0) + 1)
          void this.#assign(rec, a.worker, a.seed, a.workers).catch(error => ctx.emit('error', { error }))
          break
        case 'open':
          for (const w of a.workers) void ctx.send(w, 'open', rec.env.id, {}).catch(error => ctx.emit('error', { error }))
          break
        case 'reannounce':
          ctx.transport.publish(TASK_TOPIC, rec.env.bytes)
          break
        case 'release':
          for (const w of a.workers) void ctx.send(w, 'cancel', rec.env.id, { reason: 'not drawn' }).catch(error => ctx.emit('error', { error }))
          break
        case 'missed':
          ctx.emit('worker:missed', { worker: a.worker, task: rec.env.id })
          void this.#account.observe(a.worker, 'heartbeat_missed', rec.env.id).catch(error => ctx.emit('error', { error }))
          break
        case 'referee':
          void ctx.runner.run(rec.env.type, rec.payload, { deadlineMs: Math.max(1, rec.env.deadline - ctx.clock.now()) })
            .then(result => { this.#act(rec, rec.coordinator.onReferee(result, ctx.clock.now())) })
            .catch(error => ctx.emit('error', { error }))
          break
        case 'settle':
          this.#closeAssignments(rec)
          this.#tasks.delete(toKey(rec.env.id))
          this.#settling.set(toKey(rec.env.id), rec)
          this.#enqueue({ rec, outcome: a.outcome })
          break
        case 'fail':
          this.#closeAssignments(rec)
          this.#tasks.delete(toKey(rec.env.id))
          void this.#fail(rec, a.code, a.reason, a.outcome).catch(error => ctx.emit('error', { error }))
          break
      }
    }
  }

  /** Send one assignment, its payload sealed to the worker. */
  async #assign (rec: Submitted, worker: Uint8Array, seed: Uint8Array, workers: Uint8Array[]): Promise<void> {
    const peer = rec.peers.get(toKey(worker)) as BoxPeer // every drawn worker claimed, with its key
    const sealed = await sealPayload(this.#ctx.box, peer, rec.env.id, rec.payload)
    await this.#ctx.send(worker, 'assign', rec.env.id, { seed, workers, sealed })
  }

  #enqueue (v: Verified): void {
    this.#queue.push(v)
    // Nothing else in flight: nothing to batch with, so settle now (a lone task is not delayed).
    if (this.#queue.length >= this.#options.settleBatchMax || this.#tasks.size === 0) this.#flush()
    else if (this.#batchTimer === null) this.#batchTimer = setTimeout(() => { this.#flush() }, this.#options.settleBatchMs)
  }

  /** Settle what is queued (in batches of at most settleBatchMax), after the batches before it. */
  #flush (): Promise<void> {
    if (this.#batchTimer !== null) { clearTimeout(this.#batchTimer); this.#batchTimer = null }
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#options.settleBatchMax)
      // A failure is reported and the chain goes on: a rejected link would stop every later batch.
      this.#writing = this.#writing.then(async () => { await this.#settleBatch(batch) }).catch(error => { this.#ctx.emit('error', { error }) })
    }
    return this.#writing
  }

  /**
   * Write one batch: the settle event (payments and releases of every task), then deliver each
   * result, record each worker's outcome, and sign one observation per (worker, kind) with its
   * count. The certificate and slash rounds run after, without holding up the next batch.
   */
  async #settleBatch (batch: Verified[]): Promise<void> {
    const ctx = this.#ctx
    const plans = batch.map(v => planPayments(v.rec.env, v.outcome.agreeing))
    let settle: LedgerEvent<'settle'>
    try {
      settle = await this.#account.settle(batch.map((v, i) => ({
        task: v.rec.env.id,
        result: sha256(v.outcome.result as Uint8Array),
        payments: (plans[i] as PaymentPlan).charges.map(c => [c.payee, c.amount] as const)
      })))
    } catch (error) {
      // Nothing was written: each escrow is still whole and goes back in full.
      ctx.emit('error', { error })
      for (const v of batch) {
        this.#settling.delete(toKey(v.rec.env.id))
        await this.#account.release(v.rec.env.id, v.rec.env.cap).catch(() => {})
        v.rec.reject(new TaskError('ERR_TASK_NOT_VERIFIED', `settlement failed: ${(error as Error).message}`, { cause: error }))
      }
      return
    }
    const observations = new Map<string, { worker: Uint8Array, kind: ObservationKind, count: number }>()
    const observe = (worker: Uint8Array, kind: ObservationKind): void => {
      const key = toKey(worker) + kind
      const o = observations.get(key)
      if (o === undefined) observations.set(key, { worker, kind, count: 1 })
      else o.count++
    }
    const payees = new Map<string, Uint8Array>()
    const rounds: Array<Promise<void>> = []
    for (let i = 0; i < batch.length; i++) {
      const { rec, outcome } = batch[i] as Verified
      const plan = plans[i] as PaymentPlan
      const { env } = rec
      this.settled++
      rec.resolve({ task: env.id, output: outcome.result as Uint8Array, cost: plan.cost, workers: outcome.agreeing, verified: true })
      ctx.emit('task:settled', { task: env.id, cost: plan.cost, workers: outcome.agreeing, refereed: outcome.refereed, spotCheck: outcome.spotCheck })
      for (const c of plan.charges) payees.set(toKey(c.payee), c.payee)
      for (const w of outcome.agreeing) this.replication.record(w, env.type, true)
      for (const r of outcome.outliers) this.replication.record(r.worker, env.type, false)
      for (const w of outcome.invalid) this.replication.record(w, env.type, false)
      const paidSet = new Set(outcome.agreeing.map(toKey))
      for (const w of [...outcome.outliers.map(r => r.worker), ...outcome.invalid, ...outcome.missed]) {
        if (!paidSet.has(toKey(w))) void ctx.send(w, 'cancel', env.id, { reason: 'not paid' }).catch(() => {})
      }
      for (const w of outcome.agreeing) observe(w, outcome.spotCheck ? 'spot_pass' : 'task_verified')
      for (const r of outcome.outliers) observe(r.worker, outcome.spotCheck ? 'spot_fail' : 'task_mismatch')
      for (const w of outcome.invalid) observe(w, 'task_mismatch')
      const slashes = outcome.proven ? outcome.outliers.map(async r => await this.#slash(rec, outcome, r.worker, r.result, r.resultSig)) : []
      rounds.push(Promise.all(slashes).then(() => {}).finally(() => this.#settling.delete(toKey(env.id))))
    }
    for (const { worker, kind, count } of observations.values()) {
      await this.#account.observe(worker, kind, undefined, Math.min(count, MAX_OBSERVATION_COUNT))
    }
    if (payees.size >= ctx.ledger.config.quorum) rounds.push(this.#certify(settle, [...payees.values()]))
    void Promise.all(rounds).catch(error => ctx.emit('error', { error }))
  }

  #round (asked: readonly Uint8Array[]): Collector & { wait: Promise<void> } {
    let done!: () => void
    const wait = new Promise<void>(resolve => { done = resolve })
    const timer = setTimeout(done, this.#options.roundMs)
    return { sigs: new Map(), from: new Set(asked.map(toKey)), done: () => { clearTimeout(timer); done() }, wait }
  }

  /**
   * Ask the workers a batch paid to endorse its settle event (each checks the results it is paid
   * for), then send the endorsements so each can mint once for the batch.
   */
  async #certify (settle: LedgerEvent<'settle'>, payees: Uint8Array[]): Promise<void> {
    const ctx = this.#ctx
    const workers = sortKeys(payees)
    const round = this.#round(workers)
    const key = toKey(settle.id)
    this.#endorsements.set(key, round)
    try {
      for (const w of workers) await ctx.send(w, 'certify', settle.id, { event: settle.bytes })
      await round.wait
    } finally {
      this.#endorsements.delete(key)
    }
    let sigs: QuorumSignature[] = sortSignatures([...round.sigs].map(([w, sig]) => [fromKey(w), sig] as const))
    if (sigs.length < ctx.ledger.config.quorum) return
    // All at once (and remembered, so the ledger does not check them again); one by one only
    // when some endorsement is bad.
    if (!(await verifyBatchSignatures(ctx.networkId, { settle: settle.id, sigs }))) {
      const statement = batchStatement(ctx.networkId, settle.id)
      const ok = await Promise.all(sigs.map(async ([w, sig]) => await verifyEd25519(w, statement, sig)))
      sigs = sigs.filter((_, i) => ok[i])
      if (sigs.length < ctx.ledger.config.quorum) return
    }
    const bytes = encodeBatchSignatures(sigs)
    for (const w of workers) await ctx.send(w, 'settled', settle.id, { sigs: bytes })
  }

  /** Gather a quorum's attestation against a proven outlier and slash it for InvalidResult. */
  async #slash (rec: Submitted, outcome: Outcome, offender: Uint8Array, claimed: Uint8Array, claimSig: Uint8Array): Promise<void> {
    const ctx = this.#ctx
    const { ledger, identity, networkId } = ctx
    const { env } = rec
    const digest = sha256(outcome.result as Uint8Array)
    const claim = sha256(claimed)
    const att = { task: env.id, digest, claim }
    // Evidence first: without the offender's own valid signature over its claim there is no slash.
    if (!(await verifyEd25519(offender, resultStatement(networkId, env.id, claim), claimSig))) return
    const statement = attestationStatement(networkId, offender, 'InvalidResult', att)
    const staked = (k: Uint8Array): boolean => ledger.account(k).effectiveStake >= ledger.config.minStake && ledger.chainState(k) !== undefined
    const sigs: QuorumSignature[] = []
    if (staked(identity.publicKey)) sigs.push([identity.publicKey, await identity.sign(statement)])
    const helpers = outcome.agreeing.filter(staked)
    if (sigs.length + helpers.length < ledger.config.quorum) return // too few staked witnesses: observation only
    const round = this.#round(helpers)
    rec.attest.set(toKey(offender), round)
    for (const w of helpers) await ctx.send(w, 'attest', env.id, { offender, claim, digest })
    await round.wait
    for (const w of helpers) {
      const sig = round.sigs.get(toKey(w))
      if (sig !== undefined && await verifyEd25519(w, statement, sig)) sigs.push([w, sig])
    }
    const evidence = { ...att, claimSig, sigs: sortSignatures(sigs) }
    if (!(await verifyAttestation(networkId, offender, 'InvalidResult', evidence, ledger.config.quorum))) return
    const offenderState = ledger.chainState(offender)
    if (offenderState?.head === undefined || offenderState.head === null) return
    // The ledger caps a slash by the offender's stake as its own chain shows it, which earlier
    // slashes (others' events) do not lower. Measured on the stake that is left in this replica's
    // view instead, repeated slashes shrink geometrically and never take more than is staked
    // (concurrent slashes by different submitters still can: docs/ledger.md, known limits).
    // Slashes of this submitter still being appended count as taken: two outliers proven at once
    // must not both be measured on the same stake (they took a liar's stake below zero in the
    // 5-process demo).
    const offenderKey = toKey(offender)
    const pending = this.#slashing.get(offenderKey) ?? 0n
    const left = ledger.account(offender).staked - pending
    const amount = slashAmount(left < offenderState.staked ? (left > 0n ? left : 0n) : offenderState.staked, 'InvalidResult')
    if (amount === 0n) return
    // The cap is read at the offender's head; each attester shows its stake by its own head.
    const deps = [offenderState.head]
    for (const [signer] of sigs) {
      const head = ledger.chainState(signer)?.head
      if (head !== undefined && head !== null) deps.push(head)
    }
    // The slashed stake goes to the honest co-workers that attested (the ledger's rule).
    const attesters = new Set(sigs.map(([s]) => toKey(s)))
    const beneficiaries = sortKeys(outcome.agreeing.filter(w => attesters.has(toKey(w))))
    this.#slashing.set(offenderKey, pending + amount)
    try {
      await ledger.append(identity, 'slash', { offender, reason: 'InvalidResult', amount, evidence, beneficiaries }, { deps, time: ctx.clock.now() })
    } finally {
      const still = (this.#slashing.get(offenderKey) ?? 0n) - amount
      if (still > 0n) this.#slashing.set(offenderKey, still)
      else this.#slashing.delete(offenderKey)
    }
    ctx.emit('worker:slashed', { offender, task: env.id, amount })
  }

  async #fail (rec: Submitted, code: 'ERR_TASK_EXPIRED' | 'ERR_TASK_NOT_VERIFIED', reason: string, outcome: Outcome): Promise<void> {
    const ctx = this.#ctx
    const { env } = rec
    if (code === 'ERR_TASK_EXPIRED') this.timedOut++
    this.failed++
    // Nothing was verified: the whole escrow goes back.
    await this.#account.release(env.id, env.cap)
    for (const w of outcome.invalid) { this.replication.record(w, env.type, false); await this.#account.observe(w, 'task_mismatch', env.id) }
    for (const w of rec.coordinator.assigned) void ctx.send(w, 'cancel', env.id, { reason: code }).catch(() => {})
    ctx.emit('task:failed', { task: env.id, code, reason })
    rec.reject(new TaskError(code, reason))
  }

  /** Settle what is verified, then reject every open task (the node is stopping); their escrows are released. */
  async stop (): Promise<void> {
    await this.#flush().catch(error => this.#ctx.emit('error', { error }))
    for (const rec of [...this.#tasks.values()]) {
      this.#tasks.delete(toKey(rec.env.id))
      if (rec.coordinator.phase !== 'done') {
        await this.#account.release(rec.env.id, rec.env.cap).catch(() => {})
        rec.reject(new TaskError('ERR_TASK_STOPPED', 'the node stopped before the task settled'))
      }
    }
  }
}
