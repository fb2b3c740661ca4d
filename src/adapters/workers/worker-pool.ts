/**
 * The WorkerPool port over Node's worker_threads (issue 3 §4).
 *
 * - Each worker runs worker-entry.ts and one task at a time; tasks wait in a FIFO queue.
 * - Wall time: a task's deadline starts when a worker takes it. Past it the worker is terminated
 *   (V8 stops it at the next interrupt check: wasm and JS loops have one) and the task rejects once
 *   the thread has exited, so "rejected" means "stopped", with `ERR_WASM_TIMEOUT` for custom_wasm and
 *   `ERR_WORKER_TIMEOUT` otherwise. A replacement worker is started at once.
 * - Crashes: a worker that exits or throws uncaught (process.exit in a kernel, an out-of-memory
 *   under `resourceLimits`) fails its task with `ERR_WORKER_CRASHED` and is replaced; no task is
 *   left pending. Three workers in a row that die before they are ready (a broken kernel table)
 *   stop the respawning, and every queued and later task fails with `ERR_WORKER_CRASHED`.
 * - CPU share (duty cycle d in [0.1, 1]): after a task that held a worker for t ms, that worker
 *   rests t·(1−d)/d ms before taking another. So over any stretch of back-to-back tasks each worker
 *   computes at most a fraction d of the time, plus one task. It does NOT bound a single task: a
 *   task runs at full speed until it ends (its deadline bounds it). Pausing a fuel-metered module
 *   mid-run would need a host import called on the metering path; not done.
 * - Memory: `resourceLimits` caps each worker's JS heap (default 256 MiB old generation); WebAssembly
 *   memories live outside that heap and are capped by the custom_wasm kernel's page limit.
 * - Idle workers (`idleMs`): by default all `size` workers start at once and stay. With `idleMs`
 *   the pool starts a worker only when a task finds none free (up to `size`), and ends one that has
 *   had no task for `idleMs`. Why: a worker thread is a second V8 isolate with the kernel table
 *   loaded, ~20-40 MB resident even when it never runs anything (measured on an idle
 *   `edge-net node`, bench/network.ts idle()); a node that waits for work should not pay for it.
 *   The price is the worker's start-up (tens of ms) on the first task after an idle spell; a
 *   task's deadline starts only when a worker takes it, so it does not eat into the deadline.
 *
 * @example
 * const pool = WorkerThreadsPool.create({ size: 2, dutyCycle: 0.5 })
 * const out = await pool.run('custom_wasm', payload, { deadlineMs: 1000 })
 * await pool.close()
 */
import { Worker } from 'node:worker_threads'
import type { ResourceLimits } from 'node:worker_threads'
import { KernelError, KERNEL_ERROR_CODES } from '../../core/kernels/errors.ts'
import type { KernelErrorCode } from '../../core/kernels/errors.ts'
import type { TaskType } from '../../core/economy/prices.ts'
import type { WorkerPool, WorkerPoolRunOptions, WorkerPoolStats } from '../../ports.ts'
import { WorkerPoolError } from './errors.ts'
import { transferable } from './protocol.ts'
import type { TaskMessage, WorkerInit, WorkerReply } from './protocol.ts'

/** How a task ended, as {@link WorkerThreadsPoolInit.onTaskEnd} reports it. @example const o: TaskOutcome = 'timedOut' */
export type TaskOutcome = 'completed' | 'failed' | 'crashed' | 'timedOut' | 'aborted' | 'closed'

/** One finished task's timing (ms, from `performance.now()`). @example pool = WorkerThreadsPool.create({ onTaskEnd: e => log(e.runMs) }) */
export interface TaskEndInfo {
  type: string
  outcome: TaskOutcome
  /** Time queued before a worker took it. */
  queuedMs: number
  /** From the worker taking it to its settling (for a timeout: to the worker's exit). 0 if it never ran. */
  runMs: number
  /** The deadline it ran under. */
  deadlineMs: number
  /** For a task whose worker the pool terminated (deadline, abort): from the decision to the thread's exit. */
  killMs?: number
}

/** Options of {@link WorkerThreadsPool.create}. @example WorkerThreadsPool.create({ size: 4, dutyCycle: 0.25 }) */
export interface WorkerThreadsPoolInit {
  /** Workers, 1..64 (default 1). */
  size?: number
  /** CPU share, 0.1..1 (default 1). */
  dutyCycle?: number
  /** Deadline when a run names none, ms (default 30 000). */
  defaultDeadlineMs?: number
  /** Per-worker V8 limits (default: 256 MiB old generation, 32 MiB young, 4 MiB stack). */
  resourceLimits?: ResourceLimits
  /** A file URL of a module exporting `KERNELS`, instead of the build's registry (tests, subsets). */
  kernelsModule?: string | URL
  /** Called as each task settles (metrics, dashboards, tests). */
  onTaskEnd?: (info: TaskEndInfo) => void
  /**
   * Start workers on demand and end one after this many ms without a task (1..MAX_DEADLINE_MS).
   * Default: Infinity, every worker starts with the pool and stays.
   */
  idleMs?: number
}

/** Longest deadline a run may ask for: 24 h. @example MAX_DEADLINE_MS === 86_400_000 */
export const MAX_DEADLINE_MS = 86_400_000
const MAX_WORKERS = 64
const STARTUP_FAILURES_BEFORE_GIVING_UP = 3
const EXIT_GRACE_MS = 1000
const DEFAULT_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 }
const ENTRY = new URL('./worker-entry.ts', import.meta.url)

interface Job {
  id: number
  type: TaskType
  payload: Uint8Array
  deadlineMs: number
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  queuedAt: number
  startedAt: number
  resolve: (out: Uint8Array) => void
  reject: (err: Error) => void
}

interface Slot {
  worker: Worker
  ready: boolean
  job: Job | undefined
  /** Set when we terminate the worker on purpose: what to do with its job once it has exited. */
  ending: { outcome: TaskOutcome, error: Error, at: number } | undefined
  crashError: Error | undefined
  restUntil: number
  deadline: ReturnType<typeof setTimeout> | undefined
  /** Armed while the worker waits for a task (pools with `idleMs`). */
  idle: ReturnType<typeof setTimeout> | undefined
  /** Ended for idling: its exit is not a crash and it is not replaced. */
  retired: boolean
}

function options (condition: boolean, message: string): void {
  if (!condition) throw new WorkerPoolError('ERR_WORKER_POOL_BAD_OPTIONS', message)
}

function checkDuty (d: unknown): number {
  options(typeof d === 'number' && d >= 0.1 && d <= 1, `dutyCycle must be a number in [0.1, 1], got ${String(d)}`)
  return d as number
}

function checkDeadline (ms: unknown): number {
  options(typeof ms === 'number' && Number.isInteger(ms) && ms >= 1 && ms <= MAX_DEADLINE_MS, `deadlineMs must be an integer in [1, ${MAX_DEADLINE_MS}], got ${String(ms)}`)
  return ms as number
}

/** The worker_threads implementation of {@link WorkerPool}. @example const pool = WorkerThreadsPool.create({ size: 2 }) */
export class WorkerThreadsPool implements WorkerPool {
  readonly size: number
  private dutyCycle: number
  private readonly defaultDeadlineMs: number
  private readonly limits: ResourceLimits
  private readonly workerData: WorkerInit
  private readonly onTaskEnd: ((info: TaskEndInfo) => void) | undefined
  private readonly idleMs: number
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private readonly counters = { completed: 0, failed: 0, crashed: 0, timedOut: 0, aborted: 0, restarts: 0, restMs: 0 }
  private nextId = 1
  private closed = false
  private startupFailures = 0
  private broken: Error | undefined
  private restTimer: ReturnType<typeof setTimeout> | undefined

  /**
   * Start a pool (its workers start loading at once).
   * @throws WorkerPoolError `ERR_WORKER_POOL_BAD_OPTIONS`.
   * @example const pool = WorkerThreadsPool.create({ size: 2, defaultDeadlineMs: 5000 })
   */
  static create (init: WorkerThreadsPoolInit = {}): WorkerThreadsPool {
    return new WorkerThreadsPool(init)
  }

  private constructor (init: WorkerThreadsPoolInit) {
    const size = init.size ?? 1
    options(Number.isInteger(size) && size >= 1 && size <= MAX_WORKERS, `size must be an integer in [1, ${MAX_WORKERS}], got ${String(size)}`)
    this.size = size
    this.dutyCycle = checkDuty(init.dutyCycle ?? 1)
    this.defaultDeadlineMs = checkDeadline(init.defaultDeadlineMs ?? 30_000)
    this.limits = { ...DEFAULT_LIMITS, ...init.resourceLimits }
    this.workerData = init.kernelsModule === undefined ? {} : { kernelsModule: String(init.kernelsModule) }
    this.onTaskEnd = init.onTaskEnd
    const idleMs = init.idleMs ?? Infinity
    options(idleMs === Infinity || (Number.isInteger(idleMs) && idleMs >= 1 && idleMs <= MAX_DEADLINE_MS), `idleMs must be Infinity or an integer in [1, ${MAX_DEADLINE_MS}], got ${String(idleMs)}`)
    this.idleMs = idleMs
    if (idleMs === Infinity) for (let i = 0; i < size; i++) this.slots.push(this.spawn())
  }

  run (type: TaskType, payload: Uint8Array, opts: WorkerPoolRunOptions = {}): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new WorkerPoolError('ERR_WORKER_POOL_CLOSED', 'the pool is closed'))
    if (this.broken !== undefined) return Promise.reject(this.broken)
    let deadlineMs: number
    try {
      options(typeof type === 'string', 'type must be a task type string')
      options(payload instanceof Uint8Array, 'payload must be a Uint8Array')
      deadlineMs = checkDeadline(opts.deadlineMs ?? this.defaultDeadlineMs)
    } catch (err) {
      return Promise.reject(err)
    }
    const signal = opts.signal
    if (signal?.aborted === true) return Promise.reject(new WorkerPoolError('ERR_WORKER_ABORTED', 'the task was aborted before it was queued', { cause: signal.reason }))
    return new Promise<Uint8Array>((resolve, reject) => {
      const job: Job = { id: this.nextId++, type, payload, deadlineMs, signal, onAbort: undefined, queuedAt: performance.now(), startedAt: 0, resolve, reject }
      if (signal !== undefined) {
        job.onAbort = () => this.abort(job)
        signal.addEventListener('abort', job.onAbort, { once: true })
      }
      this.queue.push(job)
      this.pump()
    })
  }

  setDutyCycle (fraction: number): void {
    this.dutyCycle = checkDuty(fraction)
  }

  stats (): WorkerPoolStats {
    return {
      size: this.size,
      busy: this.slots.filter(s => s.job !== undefined).length,
      threads: this.slots.length,
      queued: this.queue.length,
      ...this.counters,
      dutyCycle: this.dutyCycle
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.restTimer !== undefined) clearTimeout(this.restTimer)
    const error = new WorkerPoolError('ERR_WORKER_POOL_CLOSED', 'the pool was closed')
    for (const job of this.queue.splice(0)) this.settle(job, 'closed', error)
    for (const slot of this.slots) if (slot.idle !== undefined) clearTimeout(slot.idle)
    await Promise.all(this.slots.map(async slot => {
      if (slot.job !== undefined) slot.ending = { outcome: 'closed', error, at: performance.now() }
      await slot.worker.terminate()
    }))
  }

  private spawn (): Slot {
    const worker = new Worker(ENTRY, { workerData: this.workerData, resourceLimits: this.limits })
    const slot: Slot = { worker, ready: false, job: undefined, ending: undefined, crashError: undefined, restUntil: 0, deadline: undefined, idle: undefined, retired: false }
    worker.on('message', (msg: WorkerReply) => this.onMessage(slot, msg))
    worker.on('error', (err: Error) => { slot.crashError = err })
    worker.on('exit', (code: number) => this.onExit(slot, code))
    return slot
  }

  private onMessage (slot: Slot, msg: WorkerReply): void {
    if (msg.kind === 'ready') {
      slot.ready = true
      this.startupFailures = 0
      this.pump()
      return
    }
    const job = slot.job
    if (job === undefined || job.id !== msg.id || slot.ending !== undefined) return
    this.release(slot)
    if (msg.kind === 'done') {
      this.settle(job, 'completed', undefined, new Uint8Array(msg.output.buffer, msg.output.byteOffset, msg.output.byteLength))
    } else {
      const { name, code, message } = msg.error
      const err = name === 'KernelError' && (KERNEL_ERROR_CODES as readonly string[]).includes(code ?? '')
        ? new KernelError(code as KernelErrorCode, message)
        : new WorkerPoolError('ERR_WORKER_TASK_FAILED', `${name}: ${message}`)
      this.settle(job, 'failed', err)
    }
    this.pump()
  }

  private onExit (slot: Slot, code: number): void {
    if (slot.deadline !== undefined) clearTimeout(slot.deadline)
    if (slot.idle !== undefined) clearTimeout(slot.idle)
    if (slot.retired) return // ended for idling, with no job: nothing to settle or replace
    const job = slot.job
    slot.job = undefined
    if (job !== undefined) {
      if (slot.ending !== undefined) {
        this.settle(job, slot.ending.outcome, slot.ending.error, undefined, performance.now() - slot.ending.at)
      } else {
        const why = slot.crashError === undefined ? `exit code ${code}` : `${slot.crashError.name}: ${slot.crashError.message}`
        this.settle(job, 'crashed', new WorkerPoolError('ERR_WORKER_CRASHED', `the worker running this ${job.type} task died (${why}); it was replaced`, { cause: slot.crashError }))
      }
    }
    if (this.closed) return
    if (!slot.ready && slot.ending === undefined) {
      this.startupFailures++
      if (this.startupFailures >= STARTUP_FAILURES_BEFORE_GIVING_UP) {
        this.broken = new WorkerPoolError('ERR_WORKER_CRASHED', `workers die before they are ready (${slot.crashError?.message ?? `exit code ${code}`}); the pool stopped restarting them`, { cause: slot.crashError })
        for (const queued of this.queue.splice(0)) this.settle(queued, 'crashed', this.broken)
        return
      }
    }
    // Replaced at once, on-demand pools too: a task that killed its worker is often followed by more.
    const index = this.slots.indexOf(slot)
    const fresh = this.spawn()
    fresh.restUntil = slot.restUntil
    if (index === -1) this.slots.push(fresh)
    else this.slots[index] = fresh
    this.counters.restarts++
    this.pump()
  }

  /** Terminate a slot's worker on purpose; its job settles with `outcome` once the thread is gone. */
  private kill (slot: Slot, outcome: TaskOutcome, error: Error): void {
    if (slot.ending !== undefined) return
    slot.ending = { outcome, error, at: performance.now() }
    const job = slot.job
    if (job !== undefined) this.rest(slot, performance.now() - job.startedAt)
    void slot.worker.terminate()
    // If the thread does not exit promptly (stuck in native code), settle anyway; onExit still replaces it.
    setTimeout(() => {
      if (slot.job === job && job !== undefined) { slot.job = undefined; this.settle(job, outcome, error) }
    }, EXIT_GRACE_MS).unref()
  }

  private abort (job: Job): void {
    const error = new WorkerPoolError('ERR_WORKER_ABORTED', 'the task was aborted', { cause: job.signal?.reason })
    const queued = this.queue.indexOf(job)
    if (queued !== -1) {
      this.queue.splice(queued, 1)
      this.settle(job, 'aborted', error)
      return
    }
    const slot = this.slots.find(s => s.job === job)
    if (slot !== undefined) this.kill(slot, 'aborted', error)
  }

  private release (slot: Slot): void {
    if (slot.deadline !== undefined) clearTimeout(slot.deadline)
    slot.deadline = undefined
    const job = slot.job
    slot.job = undefined
    if (job !== undefined) this.rest(slot, performance.now() - job.startedAt)
  }

  private rest (slot: Slot, busyMs: number): void {
    const restMs = busyMs * (1 - this.dutyCycle) / this.dutyCycle
    if (restMs <= 0) return
    slot.restUntil = performance.now() + restMs
    this.counters.restMs += restMs
  }

  private settle (job: Job, outcome: TaskOutcome, error?: Error, output?: Uint8Array, killMs?: number): void {
    if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort)
    if (outcome !== 'closed') this.counters[outcome]++
    const now = performance.now()
    this.onTaskEnd?.({
      type: job.type,
      outcome,
      queuedMs: (job.startedAt === 0 ? now : job.startedAt) - job.queuedAt,
      runMs: job.startedAt === 0 ? 0 : now - job.startedAt,
      deadlineMs: job.deadlineMs,
      ...(killMs === undefined ? {} : { killMs })
    })
    if (error !== undefined) job.reject(error)
    else job.resolve(output as Uint8Array)
  }

  private pump (): void {
    if (this.closed) return
    this.grow()
    const now = performance.now()
    let wake = Infinity
    for (const slot of this.slots) {
      if (this.queue.length === 0) break
      if (!slot.ready || slot.job !== undefined || slot.ending !== undefined) continue
      if (slot.restUntil > now) { wake = Math.min(wake, slot.restUntil); continue }
      this.dispatch(slot, this.queue.shift() as Job)
    }
    if (this.queue.length > 0 && wake !== Infinity) {
      if (this.restTimer !== undefined) clearTimeout(this.restTimer)
      this.restTimer = setTimeout(() => { this.restTimer = undefined; this.pump() }, Math.max(1, Math.ceil(wake - now)))
    }
    this.armIdle()
  }

  /** On-demand pools: start workers (up to size) for queued tasks that no free or starting worker will take. */
  private grow (): void {
    if (this.idleMs === Infinity || this.broken !== undefined) return
    const free = this.slots.filter(s => s.job === undefined && s.ending === undefined).length
    for (let i = free; i < this.queue.length && this.slots.length < this.size; i++) this.slots.push(this.spawn())
  }

  /** On-demand pools: a ready worker without a task ends after idleMs unless a task comes first. */
  private armIdle (): void {
    if (this.idleMs === Infinity) return
    for (const slot of this.slots) {
      const waiting = slot.ready && slot.job === undefined && slot.ending === undefined
      if (!waiting && slot.idle !== undefined) { clearTimeout(slot.idle); slot.idle = undefined }
      if (waiting && slot.idle === undefined) {
        slot.idle = setTimeout(() => { this.retire(slot) }, this.idleMs)
        slot.idle.unref()
      }
    }
  }

  private retire (slot: Slot): void {
    slot.idle = undefined
    if (this.closed || slot.job !== undefined || slot.ending !== undefined) return
    slot.retired = true
    this.slots.splice(this.slots.indexOf(slot), 1)
    void slot.worker.terminate()
  }

  private dispatch (slot: Slot, job: Job): void {
    slot.job = job
    job.startedAt = performance.now()
    const [payload, transfer] = transferable(job.payload)
    job.payload = new Uint8Array(0)
    slot.deadline = setTimeout(() => {
      slot.deadline = undefined
      const error = job.type === 'custom_wasm'
        ? new KernelError('ERR_WASM_TIMEOUT', `the run passed its ${job.deadlineMs} ms deadline; its worker was terminated`)
        : new WorkerPoolError('ERR_WORKER_TIMEOUT', `the ${job.type} task passed its ${job.deadlineMs} ms deadline; its worker was terminated`)
      this.kill(slot, 'timedOut', error)
    }, job.deadlineMs)
    slot.worker.postMessage({ id: job.id, type: job.type, payload } satisfies TaskMessage, transfer)
  }
}
