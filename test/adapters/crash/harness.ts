/**
 * The crash harness, parent side: run a child process that appends to a SqliteEventStore and
 * acknowledges what it stored (test/adapters/crash/child.ts), SIGKILL it at a random moment, reopen
 * the file here and check it; again and again on the same file. Used by
 * test/adapters/sqlite/crash.test.ts (200 kills) and scripts/soak.ts (10 000).
 *
 * Both ends are pluggable: `workload` is the module the child runs (default ./workload.ts) and
 * `check` is what the parent asserts after each kill (default `checkAckedEvents()`), so a ledger
 * workload can be checked by "the state root after reopening equals a replay from scratch" without
 * changing this file.
 *
 * What a seed reproduces: the child's events and batches, the kill delays and the check's samples.
 * Where in a batch the kill lands depends on the scheduler, so a failure may need a few runs with
 * the same seed to recur.
 */

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { SqliteEventStore } from '../../../src/adapters/sqlite/event-store.ts'
import type { EventStore } from '../../../src/ports.ts'
import { fromHex, toHex } from '../../../src/core/bytes.ts'
import { createPrng, mixSeed } from './prng.ts'
import type { Prng } from './prng.ts'

/** The child entry point. */
export const CHILD_PATH = fileURLToPath(new URL('./child.ts', import.meta.url))
/** The default workload module: random content-addressed events in batches of 1..20. */
export const DEFAULT_WORKLOAD = fileURLToPath(new URL('./workload.ts', import.meta.url))

/** What one child did before it died. */
export interface ChildOutcome {
  /** Ids (hex) the child acknowledged, in order, repeats included. */
  acked: string[]
  /** `note` lines the workload sent, for a custom check. */
  notes: string[]
  /** Whether we killed it (false: it finished or failed on its own). */
  killed: boolean
  exitCode: number | null
  signal: NodeJS.Signals | null
  stderr: string
}

/** Everything a check gets after a kill: the reopened store and what the children acknowledged. */
export interface CrashCheckContext {
  /** The store reopened in the parent on the file the children wrote. */
  store: EventStore
  round: number
  outcome: ChildOutcome
  /** Every distinct id acknowledged in this and earlier rounds on this file (hex), oldest first. */
  ackedLog: readonly string[]
  ackedSet: ReadonlySet<string>
  /** Whether this round should check everything (the harness asks every `fullCheckEvery` rounds). */
  full: boolean
  /** Seeded randomness for sampling. */
  rng: Prng
}

/** A check after a kill: throw to fail the run. */
export type CrashCheck = (context: CrashCheckContext) => Promise<void>

/** Summary of one round, for progress output. */
export interface RoundSummary {
  round: number
  roundSeed: number
  delayMs: number
  acked: number
  totalAcked: number
  killed: boolean
  ms: number
}

export interface CrashRunOptions {
  /** The database file every round continues on. */
  dbPath: string
  /** How many rounds (kills). */
  kills: number
  /** Master seed; each round derives its own from it and its index. */
  seed: number
  /** The child's workload module (absolute path). */
  workload?: string
  workloadArgs?: readonly string[]
  /** The parent's check; default `checkAckedEvents()`. */
  check?: CrashCheck
  /** Kill this many ms after the first ack: uniform in [min, max] (default 5..60). */
  minDelayMs?: number
  maxDelayMs?: number
  /** Run a full check every this many rounds and on the last (default 1: every round). */
  fullCheckEvery?: number
  /** Fail if a child has not acknowledged anything after this long (default 20 s). */
  firstAckTimeoutMs?: number
  /** First round index (to resume a soak). */
  startRound?: number
  onRound?: (summary: RoundSummary) => void
}

/** A failed round, with what is needed to reproduce it. */
export class CrashRoundError extends Error {
  readonly round: number
  readonly roundSeed: number

  constructor (round: number, roundSeed: number, message: string, options?: ErrorOptions) {
    super(`round ${round} (round seed ${roundSeed}): ${message}`, options)
    this.name = 'CrashRoundError'
    this.round = round
    this.roundSeed = roundSeed
  }
}

/**
 * Run one child on `dbPath` and SIGKILL it `delayMs` after its first ack.
 *
 * @example
 * const outcome = await runChild({ dbPath, seed: 1, delayMs: 20 })
 */
export async function runChild (options: {
  dbPath: string
  seed: number
  delayMs: number
  workload?: string
  workloadArgs?: readonly string[]
  firstAckTimeoutMs?: number
  /** Node's compile cache for the child (default: next to the database). */
  compileCacheDir?: string
}): Promise<ChildOutcome> {
  const { dbPath, seed, delayMs } = options
  const child = spawn(process.execPath, [
    '--disable-warning=ExperimentalWarning',
    CHILD_PATH, dbPath, options.workload ?? DEFAULT_WORKLOAD, String(seed), ...(options.workloadArgs ?? [])
  ], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Each child would otherwise strip the types of every .ts file it loads afresh (~100 ms of
    // start-up under load); with Node's on-disk compile cache the second child onwards skips it.
    env: { ...process.env, NODE_COMPILE_CACHE: options.compileCacheDir ?? join(dirname(dbPath), 'node-compile-cache') }
  })
  let stdout = ''
  let stderr = ''
  let killed = false
  let killTimer: NodeJS.Timeout | undefined
  const kill = (): void => { if (child.exitCode === null && child.signalCode === null) { killed = child.kill('SIGKILL') } }
  const firstAckTimer = setTimeout(kill, options.firstAckTimeoutMs ?? 20_000)
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk
    if (killTimer === undefined && stdout.includes('ack ')) {
      clearTimeout(firstAckTimer)
      killTimer = setTimeout(kill, delayMs)
    }
  })
  child.stderr.on('data', (chunk: string) => { stderr += chunk })
  const [exitCode, signal] = await once(child, 'close') as [number | null, NodeJS.Signals | null]
  clearTimeout(firstAckTimer)
  clearTimeout(killTimer)

  const acked: string[] = []
  const notes: string[] = []
  // Only complete lines count: the last one may have been cut by the kill.
  const lines = stdout.split('\n')
  lines.pop()
  for (const line of lines) {
    if (line.startsWith('ack ')) acked.push(line.slice(4))
    else if (line.startsWith('note ')) notes.push(line.slice(5))
  }
  return { acked, notes, killed: killed && signal === 'SIGKILL', exitCode, signal, stderr }
}

/**
 * Run `kills` rounds on one file: spawn, kill, reopen, check. Resolves with the number of distinct
 * acknowledged ids; rejects with a `CrashRoundError` on the first failed round.
 *
 * @example
 * await runCrashRounds({ dbPath: '/tmp/x/events.db', kills: 200, seed: 42 })
 */
export async function runCrashRounds (options: CrashRunOptions): Promise<{ acked: number, killed: number }> {
  const check = options.check ?? checkAckedEvents()
  const minDelay = options.minDelayMs ?? 5
  const maxDelay = options.maxDelayMs ?? 60
  const fullEvery = options.fullCheckEvery ?? 1
  const first = options.startRound ?? 0
  const ackedLog: string[] = []
  const ackedSet = new Set<string>()
  let killed = 0
  for (let round = first; round < first + options.kills; round++) {
    const started = Date.now()
    const roundSeed = mixSeed(options.seed, round, 1)
    const delayMs = createPrng(mixSeed(options.seed, round, 2)).int(minDelay, maxDelay)
    const outcome = await runChild({
      dbPath: options.dbPath,
      seed: roundSeed,
      delayMs,
      ...(options.workload === undefined ? {} : { workload: options.workload }),
      ...(options.workloadArgs === undefined ? {} : { workloadArgs: options.workloadArgs }),
      ...(options.firstAckTimeoutMs === undefined ? {} : { firstAckTimeoutMs: options.firstAckTimeoutMs })
    })
    const finished = outcome.exitCode === 0 && !outcome.killed
    if (!outcome.killed && !finished) {
      throw new CrashRoundError(round, roundSeed,
        `the child failed on its own (exit ${String(outcome.exitCode)}, signal ${String(outcome.signal)}, ` +
        `${outcome.acked.length} acks):\n${outcome.stderr}`)
    }
    if (outcome.killed) killed++
    for (const id of outcome.acked) {
      if (!ackedSet.has(id)) { ackedSet.add(id); ackedLog.push(id) }
    }

    let store: SqliteEventStore
    try {
      store = SqliteEventStore.open(options.dbPath)
    } catch (err) {
      throw new CrashRoundError(round, roundSeed, 'the store does not reopen after the kill', { cause: err })
    }
    try {
      await check({
        store,
        round,
        outcome,
        ackedLog,
        ackedSet,
        full: (round - first + 1) % fullEvery === 0 || round === first + options.kills - 1,
        rng: createPrng(mixSeed(options.seed, round, 3))
      })
    } catch (err) {
      throw new CrashRoundError(round, roundSeed, err instanceof Error ? err.message : String(err), { cause: err })
    } finally {
      await store.close()
    }
    options.onRound?.({
      round, roundSeed, delayMs, acked: outcome.acked.length, totalAcked: ackedSet.size, killed: outcome.killed, ms: Date.now() - started
    })
  }
  return { acked: ackedSet.size, killed }
}

function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * The default check, for content-addressed events (id = SHA-256 of bytes):
 * - every id acknowledged in this round is stored, with bytes that hash to it;
 * - a seeded sample of 64 ids acknowledged in earlier rounds still is;
 * - `count()` never goes down from one round to the next and is at least the acknowledged ids;
 * - on a full round, a scan reads every row: each row's bytes hash to its id, no id repeats, the
 *   rows number exactly `count()`, and every id ever acknowledged is among them.
 *
 * @example
 * await runCrashRounds({ dbPath, kills: 10, seed: 1, check: checkAckedEvents() })
 */
export function checkAckedEvents (): CrashCheck {
  let previousCount = 0
  return async ({ store, outcome, ackedLog, ackedSet, full, rng }) => {
    const expectStored = async (hex: string, when: string): Promise<void> => {
      const bytes = await store.get(fromHex(hex) as Uint8Array)
      if (bytes === undefined) throw new Error(`event ${hex} acknowledged ${when} is missing`)
      if (sha256Hex(bytes) !== hex) throw new Error(`event ${hex} acknowledged ${when} has the wrong bytes`)
      if (!(await store.has(fromHex(hex) as Uint8Array))) throw new Error(`has() denies stored event ${hex}`)
    }
    for (const hex of new Set(outcome.acked)) await expectStored(hex, 'in this round')
    for (let i = 0; i < 64 && ackedLog.length > 0; i++) {
      await expectStored(ackedLog[rng.int(0, ackedLog.length - 1)] as string, 'in an earlier round')
    }

    const count = await store.count()
    if (count < previousCount) throw new Error(`count() fell from ${previousCount} to ${count}: stored events vanished`)
    if (count < ackedSet.size) throw new Error(`count() is ${count} but ${ackedSet.size} distinct events were acknowledged`)
    previousCount = count

    if (!full) return
    const seen = new Set<string>()
    let rows = 0
    for await (const { id, bytes } of store.scan()) {
      rows++
      const hex = toHex(id)
      if (sha256Hex(bytes) !== hex) throw new Error(`row ${rows} (${hex}) has bytes that do not hash to its id`)
      if (seen.has(hex)) throw new Error(`id ${hex} is stored twice`)
      seen.add(hex)
    }
    if (rows !== count) throw new Error(`scan() read ${rows} rows but count() says ${count}`)
    for (const hex of ackedLog) {
      if (!seen.has(hex)) throw new Error(`acknowledged event ${hex} is missing from scan()`)
    }
  }
}
