/**
 * ledger.sync_100k_diff_100: two replicas of 100,000 event ids that differ by 100 (50 each way,
 * then 100 held only by the side that starts, then 100 held only by the side that answers). Runs
 * the sync protocol in-process through encode/decode and prints JSON: round trips, messages,
 * bytes (sum of encoded message sizes), milliseconds to converge (median of 5), and the trie's
 * memory per id, add rate and the cost of a root after one add.
 *
 * Run: `npx node bench/merkle-sync.ts` (ids are seeded, so the byte figures repeat exactly).
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { MerkleSet, ID_BYTES } from '../src/core/ledger/merkle.ts'
import { reconcileLocal, DEFAULT_ID_LIST_THRESHOLD } from '../src/core/ledger/sync.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const N = 100_000

/** Seeded ids packed in one buffer (xorshift32: uniform enough for SHA-256-like ids). */
function idPool (count: number, seed: number): Uint8Array {
  const pool = new Uint8Array(count * ID_BYTES)
  let x = seed | 0
  for (let i = 0; i < pool.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    pool[i] = x & 255
  }
  return pool
}

const idAt = (pool: Uint8Array, i: number): Uint8Array => pool.subarray(i * ID_BYTES, (i + 1) * ID_BYTES)

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const round = (x: number, digits = 3): number => Number(x.toFixed(digits))

/** Heap + ArrayBuffer bytes the trie holds per id; run first, before any other garbage exists. */
function measureMemory (): number {
  const pool = idPool(N, 0x1234567)
  gc()
  gc()
  const before = process.memoryUsage()
  const set = new MerkleSet()
  for (let i = 0; i < N; i++) set.add(idAt(pool, i))
  set.root()
  gc()
  gc()
  const after = process.memoryUsage()
  if (pool.length === 0 || set.size !== N) throw new Error('unreachable: keeps pool and set alive across the measurement')
  return round(((after.heapUsed + after.arrayBuffers) - (before.heapUsed + before.arrayBuffers)) / N, 1)
}

function measureSpeed (): { addPerSec: number, firstRootMs: number, rootAfterAddMs: number } {
  const pool = idPool(N + 1000, 0x2345678)
  MerkleSet.from(Array.from({ length: 20_000 }, (_, i) => idAt(pool, i))).root() // warm the JIT
  const set = new MerkleSet()
  const t0 = performance.now()
  for (let i = 0; i < N; i++) set.add(idAt(pool, i))
  const t1 = performance.now()
  set.root()
  const t2 = performance.now()
  for (let i = N; i < N + 1000; i++) {
    set.add(idAt(pool, i))
    set.root()
  }
  const t3 = performance.now()
  return { addPerSec: Math.round(N / ((t1 - t0) / 1000)), firstRootMs: round(t2 - t1, 1), rootAfterAddMs: round((t3 - t2) / 1000, 4) }
}

interface Scenario { name: string, onlyA: number, onlyB: number }

function runScenario ({ name, onlyA, onlyB }: Scenario): Record<string, unknown> {
  const pool = idPool(N + onlyA + onlyB, 0x7654321)
  const a = new MerkleSet()
  const b = new MerkleSet()
  for (let i = 0; i < N; i++) { a.add(idAt(pool, i)); b.add(idAt(pool, i)) }
  for (let i = N; i < N + onlyA; i++) a.add(idAt(pool, i))
  for (let i = N + onlyA; i < N + onlyA + onlyB; i++) b.add(idAt(pool, i))
  a.root()
  b.root()
  const times: number[] = []
  let result = reconcileLocal(a, b)
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now()
    result = reconcileLocal(a, b)
    times.push(performance.now() - t0)
  }
  const exact = result.a.missingOnOtherSide.length === onlyA && result.a.missingHere.length === onlyB &&
    result.b.missingOnOtherSide.length === onlyB && result.b.missingHere.length === onlyA
  if (!exact) throw new Error(`${name}: the protocol did not find the ${onlyA + onlyB} differences`)
  return { scenario: name, roundTrips: result.roundTrips, messages: result.messages, bytes: result.bytes, ms: round(median(times), 1) }
}

/** Run every scenario; returns the figures (also printed as JSON when run directly). */
export function run (): Record<string, unknown> {
  const trie = { bytesPerIdInTrie: measureMemory(), ...measureSpeed() }
  const scenarios = [
    { name: '50 each way', onlyA: 50, onlyB: 50 },
    { name: '100 on the starting side', onlyA: 100, onlyB: 0 },
    { name: '100 on the answering side', onlyA: 0, onlyB: 100 },
    { name: 'equal sets', onlyA: 0, onlyB: 0 }
  ].map(runScenario)
  return { bench: 'ledger.sync_100k_diff_100', ids: N, idListThreshold: DEFAULT_ID_LIST_THRESHOLD, ...trie, scenarios }
}

if (import.meta.main) console.log(JSON.stringify(run(), null, 2))
