/**
 * A seeded simulation of an edge-net network in one process (`npm run sim`, and the small runs in
 * `npm test`): real EdgeNodes, real signatures, real kernels and the real ledger rules, over the
 * simulated MemoryNetwork (seeded delays, drops, duplicates), with adversarial workers:
 *
 * - liars return a wrong result for every task: independent liars each a different one, colluding
 *   liars (`collude`) all the same wrong answer;
 * - copiers never compute: they commit to noise and reveal a co-worker's result they eavesdropped
 *   (reveals are sealed to the submitter; the simulation hands copiers the plaintext anyway);
 * - crashers stop (leave the network) at a random moment of the run.
 *
 * Simulation-only simplification, stated: every node appends to ONE shared in-memory ledger
 * instance, i.e. ledger replication is taken as instant. The ledger's own convergence under
 * drops, duplicates and partitions is proven separately (test/core/ledger/convergence.test.ts);
 * here the subject is the task protocol. Task messages do cross the lossy simulated network.
 */
import { toKey } from '../core/bytes.ts'
import { credits } from '../core/economy/index.ts'
import { Identity, PairBox } from '../core/identity/index.ts'
import { KERNELS } from '../core/kernels/index.ts'
import { Account, Ledger } from '../core/ledger/index.ts'
import type { LedgerEvent } from '../core/ledger/index.ts'
import { encodeEncryptionPayload } from '../core/kernels/encryption.ts'
import { MAX_MESSAGE_BYTES, TaskError, openReveal } from '../core/tasks/index.ts'
import { decodeCanonical } from '../core/codec/index.ts'
import { TASK_DIRECT_TOPIC } from './context.ts'
import { EdgeNode } from './edge-node.ts'
import { MemoryNetwork, seededRandom } from './memory-network.ts'
import type { WorkerBehaviour } from './worker-role.ts'

/** What to simulate. @example await simulate({ workers: 20, liars: 0.2, tasks: 300, seed: 1 }) */
export interface SimulationOptions {
  readonly workers?: number
  /** Fraction of workers that always lie. */
  readonly liars?: number
  /** Liars share one wrong answer. */
  readonly collude?: boolean
  readonly copiers?: number
  /** Fraction of workers that crash during the run. */
  readonly crash?: number
  readonly tasks?: number
  readonly seed?: number
  /** Submitting nodes (they do not work). Default 4. */
  readonly submitters?: number
  /** Tasks in flight per submitter. Default 16. */
  readonly inflight?: number
  readonly redundancy?: number
  readonly spotCheckRate?: number
  /** Adaptive replication threshold K. */
  readonly replicationThreshold?: number
  readonly drop?: number
  readonly duplicate?: number
  readonly delayMs?: readonly [number, number]
  /** Task lifetime, ms. Default 4000. */
  readonly timeoutMs?: number
  /** Referee disagreements (default true). */
  readonly referee?: boolean
  /**
   * Long-standing workers: before the measured window, tasks are run until every honest worker has
   * been assigned at least this many (or a cap of 10 × warmupTasks × workers tasks is reached);
   * those tasks finish before the window starts and are not counted in the report. Default 0.
   */
  readonly warmupTasks?: number
}

/** What a simulation measured. */
export interface SimulationReport {
  seed: number
  workers: number
  liars: number
  copiers: number
  crashed: number
  /** Tasks of the measured window (warm-up tasks excluded). */
  tasks: { submitted: number, verified: number, failed: number }
  /** Tasks run to warm the workers up (0 without `warmupTasks`). */
  warmupTasksRun: number
  /** Verified tasks whose output differs from the true answer, over verified tasks. */
  wrongAcceptRate: number
  /** Replicas assigned per submitted task. */
  replicasPerTask: number
  /** Replicas liars were assigned in the measured window (0: liars were out of work by then). */
  liarReplicas: number
  /** Fraction of liars that worked at least one task and were slashed within their first 100. */
  liarsSlashedWithin100: number
  honestSlashed: number
  copiersPaid: number
  /** Micro-credits reserved and never charged or released, once every task ended. */
  escrowLost: string
  /** Minted minus burned must equal the change in total holdings. */
  conservationGap: string
  slashes: number
  refereed: number
  spotChecks: number
  messages: number
  /** Errors the nodes reported (a healthy run has none). */
  errors: number
  seconds: number
}

function check (ok: boolean, what: string): void {
  if (!ok) throw new TaskError('ERR_TASK_BAD_OPTIONS', what)
}

/** Run one simulation. @example const r = await simulate({ workers: 10, tasks: 100, seed: 3 }) */
export async function simulate (options: SimulationOptions = {}): Promise<SimulationReport> {
  const seed = options.seed ?? 1
  const nWorkers = options.workers ?? 50
  const nSubmitters = options.submitters ?? 4
  const nTasks = options.tasks ?? 3000
  const fLiars = options.liars ?? 0
  const fCopiers = options.copiers ?? 0
  const fCrash = options.crash ?? 0
  check(Number.isSafeInteger(nWorkers) && nWorkers >= 3 && nWorkers <= 1000, 'workers must be 3..1000')
  check(Number.isSafeInteger(nTasks) && nTasks >= 1, 'tasks must be a positive integer')
  for (const f of [fLiars, fCopiers, fCrash]) check(f >= 0 && f < 1, 'fractions are in [0, 1)')
  check(fLiars + fCopiers + fCrash < 1, 'liars + copiers + crash must leave some honest workers')
  const random = seededRandom(seed)
  const bytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256)
    return out
  }
  const started = performance.now()

  const workerIds = await Promise.all(Array.from({ length: nWorkers }, async () => await Identity.generate()))
  const submitterIds = await Promise.all(Array.from({ length: nSubmitters }, async () => await Identity.generate()))
  const networkId = `sim-${seed}`
  const ledger = Ledger.create({
    config: {
      networkId,
      genesis: [...workerIds, ...submitterIds].map(id => ({ account: id.publicKey, amount: credits(1_000_000) }))
    }
  })
  let now = Date.now()
  const clock = { now: () => Math.max(now, Date.now()) }
  for (const id of workerIds) await new Account({ ledger, signer: id, clock }).stake(credits(500))
  for (const id of submitterIds) await new Account({ ledger, signer: id, clock }).stake(credits(500))
  now = Date.now()

  // Roles: shuffle deterministically, then cut.
  const order = workerIds.map((_, i) => i).sort(() => random() - 0.5)
  const nLiars = Math.round(fLiars * nWorkers)
  const nCopiers = Math.round(fCopiers * nWorkers)
  const nCrash = Math.round(fCrash * nWorkers)
  const role = new Map<string, 'liar' | 'copier' | 'crash' | 'honest'>()
  order.forEach((w, i) => {
    const r = i < nLiars ? 'liar' : i < nLiars + nCopiers ? 'copier' : i < nLiars + nCopiers + nCrash ? 'crash' : 'honest'
    role.set(toKey((workerIds[w] as Identity).publicKey), r)
  })

  const network = new MemoryNetwork({ seed, ...(options.drop === undefined ? {} : { drop: options.drop }), ...(options.duplicate === undefined ? {} : { duplicate: options.duplicate }), ...(options.delayMs === undefined ? {} : { delayMs: options.delayMs }) })
  // Copiers eavesdrop on every reveal the network carries (the strongest copier we can model).
  const revealed = new Map<string, Uint8Array>()
  const flip = (r: Uint8Array, at: number, value: number): Uint8Array => { const x = r.slice(); x[at] = (x[at] as number) ^ (value || 1); return x }
  const behaviourOf = (r: string): WorkerBehaviour | undefined => {
    if (r === 'liar') {
      return options.collude === true
        ? { result: async (_e, _p, honest) => { const h = await honest(); return flip(h, h.length - 1, 0x55) } }
        : { result: async (_e, _p, honest) => { const h = await honest(); return flip(h, Math.floor(random() * h.length), Math.floor(random() * 256)) } }
    }
    if (r === 'copier') return { copy: (task) => revealed.get(toKey(task)) }
    return undefined
  }

  const common = { ledger, clock, random, randomBytes: bytes, kernels: KERNELS }
  const submitterPolicy = {
    redundancy: options.redundancy ?? 3,
    spotCheckRate: options.spotCheckRate ?? 0.05,
    timeoutMs: options.timeoutMs ?? 4000,
    referee: options.referee ?? true,
    roundMs: 500,
    replication: { threshold: options.replicationThreshold ?? 10 }
  }
  const workers = await Promise.all(workerIds.map(async id => {
    const behaviour = behaviourOf(role.get(toKey(id.publicKey)) as string)
    return await EdgeNode.create({ ...common, identity: id, transport: network.join(id.publicKey), worker: behaviour === undefined ? { maxConcurrent: 2 } : { maxConcurrent: 2, behaviour } })
  }))
  const submitters = await Promise.all(submitterIds.map(async id => await EdgeNode.create({ ...common, identity: id, transport: network.join(id.publicKey), worker: { enabled: false }, submitter: submitterPolicy })))

  // Bookkeeping: tasks per worker, first slash per offender, reveals for copiers.
  const tasksOf = new Map<string, number>()
  const slashedAt = new Map<string, number>()
  let slashes = 0
  let honestSlashed = 0
  let refereed = 0
  let spotChecks = 0
  for (const w of workers) w.on('task:assigned', () => { tasksOf.set(w.key, (tasksOf.get(w.key) ?? 0) + 1) })
  let errors = 0
  for (const n of [...workers, ...submitters]) {
    n.on('error', ({ error }) => {
      errors++
      if (process.env.SIM_DEBUG !== undefined) console.error('node error:', error)
    })
  }
  for (const s of submitters) {
    s.on('worker:slashed', ({ offender }) => {
      slashes++
      const k = toKey(offender)
      if (role.get(k) === 'honest' || role.get(k) === 'crash') honestSlashed++
      if (!slashedAt.has(k)) slashedAt.set(k, tasksOf.get(k) ?? 0)
    })
    s.on('task:settled', ({ refereed: r, spotCheck }) => { if (r) refereed++; if (spotCheck) spotChecks++ })
  }
  if (nCopiers > 0) {
    // Reveals are sealed to their submitter, so an eavesdropper on a real network sees ciphertext.
    // The simulated copier is handed the plaintext anyway (the tap opens each reveal with its
    // submitter's key), the strongest copier we can model: one that has broken the sealing.
    const boxes = new Map(submitterIds.map(id => [toKey(id.publicKey), new PairBox(id, { networkId: ledger.config.networkId })]))
    const senders = new Map(workerIds.map(id => [toKey(id.publicKey), { publicKey: id.publicKey, agreementPublicKey: id.agreementPublicKey }]))
    network.tap = (from, to, topic, data) => {
      if (topic !== TASK_DIRECT_TOPIC || role.get(toKey(from)) === 'copier') return
      const box = boxes.get(toKey(to))
      const sender = senders.get(toKey(from))
      if (box === undefined || sender === undefined) return
      try {
        const msg = decodeCanonical(data, MAX_MESSAGE_BYTES)
        if (Array.isArray(msg) && msg[1] === 'reveal' && msg[2] instanceof Uint8Array) {
          const task = msg[2]
          const body = msg[4] as { sealed?: unknown }
          if (body.sealed instanceof Uint8Array) {
            void openReveal(box, sender, task, body.sealed).then(r => { revealed.set(toKey(task), r.result) }, () => {})
          }
        }
      } catch {}
    }
  }

  // Crashers leave at a random point of the run (measured in tasks settled).
  const crashAfter = new Map<EdgeNode, number>()
  for (const w of workers) if (role.get(w.key) === 'crash') crashAfter.set(w, Math.floor(random() * nTasks * 0.8))

  const key = bytes(32)
  let submitted = 0
  let verified = 0
  let failed = 0
  let wrong = 0
  let finished = 0
  // Keep the network about as busy as its workers can serve (2 slots each, `redundancy` replicas a task).
  const perSubmitter = options.inflight ?? Math.max(1, Math.floor(nWorkers * 2 / (submitterPolicy.redundancy * nSubmitters)))
  const runOne = async (node: EdgeNode): Promise<void> => {
    const payload = encodeEncryptionPayload({ op: 'encrypt', key, iv: bytes(12), data: bytes(64) })
    const truth = await (KERNELS.encryption as NonNullable<typeof KERNELS.encryption>).run(payload)
    submitted++
    try {
      const r = await node.submit({ type: 'encryption', payload })
      verified++
      if (!(KERNELS.encryption as NonNullable<typeof KERNELS.encryption>).agree(r.output, truth)) wrong++
    } catch (err) {
      if (!(err instanceof TaskError)) throw err
      if (process.env.SIM_DEBUG !== undefined) console.error(err.code, err.message)
      failed++
    }
    finished++
    for (const [w, at] of crashAfter) if (finished >= at) { crashAfter.delete(w); void w.stop() }
  }
  // Warm-up: `warmupTasks` counts tasks each honest worker runs (the per-worker history adaptive
  // replication keys on), not tasks network-wide. The phase drains before the measured window
  // opens, so no warm-up task is counted in it and no window task's replicas are missed.
  const warmup = options.warmupTasks ?? 0
  check(Number.isSafeInteger(warmup) && warmup >= 0, 'warmupTasks must be a non-negative integer')
  const honestKeys = [...role].filter(([, r]) => r === 'honest').map(([k]) => k)
  const warmedUp = (): boolean => honestKeys.every(k => (tasksOf.get(k) ?? 0) >= warmup)
  const warmupCap = warmup * nWorkers * 10
  const phase = async (more: (issued: number) => boolean): Promise<number> => {
    let issued = 0
    await Promise.all(submitters.map(async (s) => {
      const lanes = Array.from({ length: perSubmitter }, async () => {
        while (more(issued)) {
          issued++
          await runOne(s)
        }
      })
      await Promise.all(lanes)
    }))
    return issued
  }
  let warmupTasksRun = 0
  if (warmup > 0) {
    warmupTasksRun = await phase(issued => issued < warmupCap && !warmedUp())
    submitted = 0; verified = 0; failed = 0; wrong = 0; finished = 0
  }
  const replicasAtWarmupEnd = submitters.reduce((n, x) => n + x.submitterCounters.replicasAssigned, 0)
  const liarTasks = (): number => [...role].filter(([, r]) => r === 'liar').reduce((n, [k]) => n + (tasksOf.get(k) ?? 0), 0)
  const liarTasksAtWarmupEnd = liarTasks()
  await phase(issued => issued < nTasks)
  // Let certificate and attestation rounds finish.
  await new Promise(resolve => setTimeout(resolve, 700))
  const replicas = submitters.reduce((n, x) => n + x.submitterCounters.replicasAssigned, 0) - replicasAtWarmupEnd
  const liarReplicas = liarTasks() - liarTasksAtWarmupEnd

  // Escrow: whatever any submitter still holds in escrow was lost (every task has ended).
  let escrowLost = 0n
  for (const s of submitterIds) {
    for (const e of ledger.chainState(s.publicKey)?.escrows.values() ?? []) escrowLost += e.real + e.trial
  }
  const copierKeys = new Set([...role].filter(([, r]) => r === 'copier').map(([k]) => k))
  let copiersPaid = 0
  for (const s of submitterIds) {
    for (const e of ledger.history(s.publicKey)) {
      if (e.type === 'escrow') {
        const body = (e as LedgerEvent<'escrow'>).body
        if (body.op === 'charge' && body.payee !== undefined && copierKeys.has(toKey(body.payee))) copiersPaid++
      } else if (e.type === 'settle') {
        for (const item of (e as LedgerEvent<'settle'>).body.items) for (const [payee] of item.pay) if (copierKeys.has(toKey(payee))) copiersPaid++
      }
    }
  }
  const liarKeys = [...role].filter(([, r]) => r === 'liar').map(([k]) => k)
  const workedLiars = liarKeys.filter(k => (tasksOf.get(k) ?? 0) > 0)
  const caught = workedLiars.filter(k => slashedAt.has(k) && (slashedAt.get(k) as number) <= 100)

  for (const n of [...workers, ...submitters]) await n.stop()
  const totals = ledger.totals()
  return {
    seed,
    workers: nWorkers,
    liars: nLiars,
    copiers: nCopiers,
    crashed: nCrash,
    tasks: { submitted, verified, failed },
    warmupTasksRun,
    wrongAcceptRate: verified === 0 ? 0 : wrong / verified,
    replicasPerTask: submitted === 0 ? 0 : replicas / submitted,
    liarReplicas,
    liarsSlashedWithin100: workedLiars.length === 0 ? 1 : caught.length / workedLiars.length,
    honestSlashed,
    copiersPaid,
    escrowLost: escrowLost.toString(),
    conservationGap: totals.conservationGap.toString(),
    slashes,
    refereed,
    spotChecks,
    messages: network.stats.sent,
    errors,
    seconds: Math.round((performance.now() - started) / 100) / 10
  }
}

