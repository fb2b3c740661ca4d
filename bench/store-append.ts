/**
 * Append throughput of SqliteEventStore: events per second with 1 and 100 events per batch (one
 * transaction each), under synchronous=FULL (the default: every commit fsynced) and NORMAL (WAL
 * fsynced only at checkpoints). Prints one JSON document; figures belong in BENCHMARKS.md, never
 * in a test assertion.
 *
 *   node bench/store-append.ts            # ~20 s
 *   BENCH_RUNS=5 node bench/store-append.ts
 *
 * Each configuration runs BENCH_RUNS times (default 3) on a fresh file and reports the median.
 * The events are pre-built (200-byte bodies, SHA-256 ids), so only the store is timed.
 */

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir, loadavg, cpus } from 'node:os'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { DatabaseSync } from 'node:sqlite'
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.ts'
import type { SqliteSynchronous } from '../src/adapters/sqlite/event-store.ts'
import type { StoredEvent } from '../src/ports.ts'

const runs = Number(process.env.BENCH_RUNS ?? 3)
/** Events per run: enough batches that one run lasts about a second under FULL. */
const PLAN = [
  { batchSize: 1, events: 2_000 },
  { batchSize: 100, events: 50_000 }
] as const

function makeEvents (count: number): StoredEvent[] {
  return Array.from({ length: count }, () => {
    const bytes = new Uint8Array(randomBytes(200))
    return { id: new Uint8Array(createHash('sha256').update(bytes).digest()), bytes }
  })
}

async function once (dir: string, synchronous: SqliteSynchronous, batchSize: number, events: StoredEvent[]): Promise<number> {
  const path = join(dir, `${synchronous}-${batchSize}-${Math.random().toString(36).slice(2)}.db`)
  const store = SqliteEventStore.open(path, { synchronous })
  const started = performance.now()
  for (let i = 0; i < events.length; i += batchSize) await store.append(events.slice(i, i + batchSize))
  const seconds = (performance.now() - started) / 1000
  await store.close()
  await rm(path, { force: true })
  return events.length / seconds
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

const dir = await mkdtemp(join(tmpdir(), 'edge-net-bench-'))
try {
  const results = []
  for (const synchronous of ['full', 'normal'] as const) {
    for (const { batchSize, events } of PLAN) {
      const samples: number[] = []
      for (let r = 0; r < runs; r++) samples.push(await once(dir, synchronous, batchSize, makeEvents(events)))
      results.push({
        synchronous,
        batchSize,
        events,
        eventsPerSecond: Math.round(median(samples)),
        batchesPerSecond: Math.round(median(samples) / batchSize),
        samples: samples.map(Math.round)
      })
    }
  }
  const memory = new DatabaseSync(':memory:')
  console.log(JSON.stringify({
    bench: 'store-append',
    node: process.version,
    sqlite: memory.prepare('SELECT sqlite_version() AS v').get()?.v,
    cpus: cpus().length,
    loadavg1m: +(loadavg()[0] ?? 0).toFixed(2),
    tmpdir: tmpdir(),
    runs,
    results
  }, null, 2))
  memory.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
