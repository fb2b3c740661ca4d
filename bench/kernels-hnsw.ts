/**
 * HNSW (src/core/kernels/hnsw.ts) against hnswlib-node (the C++ hnswlib through N-API, installed in
 * bench/peers/), same data, same parameters, same run, at 10k×128 and 100k×128 (issue 3 §8).
 *
 * Data: seeded Gaussian clusters with a low intrinsic dimension, as real embeddings have: 64 cluster
 * centres ~ N(0, 2²) in a 32-d latent space, points = centre + N(0, 1) latent noise, mapped to 128-d by one
 * fixed random linear map, plus N(0, 0.05²) noise in all 128 coordinates. (Uniform random 128-d
 * data has intrinsic dimension 128: every method's recall collapses there and it resembles no real
 * workload.) Queries are 1,000 fresh points of the same distribution; truth is brute force.
 *
 * Parameters: l2, M = 16, efConstruction = 200 for both. efSearch is the smallest of a ladder at
 * which BOTH reach recall@10 >= 0.95; QPS is single-threaded, one query per call, best of three
 * interleaved rounds. Keys: `kernels.hnsw.<10k|100k>.{recall_at_10, peer_recall_at_10, qps,
 * peer_qps, qps_ratio, build_s, peer_build_s, ef_search}`. Goal: recall >= 0.95 at >= 50% of the
 * peer's QPS.
 *
 * Peer missing: `npm --prefix bench/peers ci` (builds a small native addon with node-gyp; N-API,
 * so it loads in any Node >= 18). Without it the bench reports our figures only, with a note.
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { HnswIndex } from '../src/core/kernels/hnsw.ts'
import type { Figure } from './run.ts'

const DIM = 128
const LATENT = 32
const CLUSTERS = 64
const QUERIES = 1000
const K = 10
const M = 16
const EF_CONSTRUCTION = 200
const EF_LADDER = [16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]
const SEED = 20240611

interface PeerIndex { initIndex (maxElements: number, m: number, efConstruction: number, seed: number): void, addPoint (p: number[], label: number): void, setEf (ef: number): void, searchKnn (q: number[], k: number): { neighbors: number[], distances: number[] } }
interface PeerModule { HierarchicalNSW: new (space: 'l2', dim: number) => PeerIndex }

function loadPeer (): PeerModule | null {
  try {
    const require = createRequire(fileURLToPath(new URL('./peers/package.json', import.meta.url)))
    return require('hnswlib-node') as PeerModule
  } catch (err) {
    console.error(`kernels-hnsw: hnswlib-node is not installed (${(err as Error).message.split('\n')[0] ?? ''}); install it with: npm --prefix bench/peers ci`)
    return null
  }
}

/** mulberry32 + Box-Muller: a seeded Gaussian source. */
function source (seed: number): { u: () => number, g: () => number } {
  let s = seed >>> 0
  const u = (): number => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296
  }
  return { u, g: () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) }
}

function makeData (n: number, seed: number): { data: Float32Array, queries: Float32Array } {
  const { u, g } = source(seed)
  const proj = new Float64Array(DIM * LATENT).map(() => g() / Math.sqrt(LATENT))
  const centres = new Float64Array(CLUSTERS * LATENT).map(() => 2 * g())
  const point = (out: Float32Array, off: number): void => {
    const c = Math.floor(u() * CLUSTERS)
    const z = new Float64Array(LATENT)
    for (let j = 0; j < LATENT; j++) z[j] = (centres[c * LATENT + j] as number) + g()
    for (let i = 0; i < DIM; i++) {
      let v = 0.05 * g()
      for (let j = 0; j < LATENT; j++) v += (proj[i * LATENT + j] as number) * (z[j] as number)
      out[off + i] = v
    }
  }
  const data = new Float32Array(n * DIM)
  for (let i = 0; i < n; i++) point(data, i * DIM)
  const queries = new Float32Array(QUERIES * DIM)
  for (let q = 0; q < QUERIES; q++) point(queries, q * DIM)
  return { data, queries }
}

function bruteForce (data: Float32Array, n: number, queries: Float32Array): Uint32Array[] {
  const out: Uint32Array[] = []
  const dist = new Float64Array(n)
  for (let q = 0; q < QUERIES; q++) {
    const qo = q * DIM
    for (let i = 0; i < n; i++) {
      let s = 0; const o = i * DIM
      for (let j = 0; j < DIM; j++) { const d = (data[o + j] as number) - (queries[qo + j] as number); s += d * d }
      dist[i] = s
    }
    // Partial selection of the K smallest.
    const best: number[] = []
    for (let i = 0; i < n; i++) {
      const d = dist[i] as number
      if (best.length < K || d < (dist[best[best.length - 1] as number] as number)) {
        let p = best.length < K ? best.length : K - 1
        if (best.length < K) best.push(i)
        while (p > 0 && (dist[best[p - 1] as number] as number) > d) { best[p] = best[p - 1] as number; p-- }
        best[p] = i
      }
    }
    out.push(Uint32Array.from(best))
  }
  return out
}

function recall (found: ArrayLike<number>[], truth: Uint32Array[]): number {
  let hit = 0
  for (let q = 0; q < truth.length; q++) {
    const t = new Set(truth[q]); const f = found[q] as ArrayLike<number>
    for (let i = 0; i < f.length; i++) if (t.has(f[i] as number)) hit++
  }
  return hit / (truth.length * K)
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits))

async function measure (n: number, label: string, peerMod: PeerModule | null): Promise<Figure[]> {
  const { data, queries } = makeData(n, SEED + n)
  const truth = bruteForce(data, n, queries)
  const queryArrays = Array.from({ length: QUERIES }, (_, q) => Array.from(queries.subarray(q * DIM, (q + 1) * DIM)))

  let t = performance.now()
  const ours = HnswIndex.create({ dim: DIM, M, efConstruction: EF_CONSTRUCTION, metric: 'l2', seed: 42 })
  for (let i = 0; i < n; i++) ours.add(data, i * DIM)
  const buildS = (performance.now() - t) / 1000

  let peer: PeerIndex | null = null
  let peerBuildS = NaN
  if (peerMod !== null) {
    const rows = Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * DIM, (i + 1) * DIM)))
    t = performance.now()
    peer = new peerMod.HierarchicalNSW('l2', DIM)
    peer.initIndex(n, M, EF_CONSTRUCTION, 42)
    for (let i = 0; i < n; i++) peer.addPoint(rows[i] as number[], i)
    peerBuildS = (performance.now() - t) / 1000
  }

  const oursAt = (ef: number): Uint32Array[] => Array.from({ length: QUERIES }, (_, q) => ours.search(queries, K, ef, q * DIM).ids)
  const peerAt = (ef: number): number[][] => { (peer as PeerIndex).setEf(ef); return queryArrays.map(q => (peer as PeerIndex).searchKnn(q, K).neighbors) }
  let ef = EF_LADDER[EF_LADDER.length - 1] as number
  for (const candidate of EF_LADDER) {
    if (recall(oursAt(candidate), truth) >= 0.95 && (peer === null || recall(peerAt(candidate), truth) >= 0.95)) { ef = candidate; break }
  }
  const ourRecall = recall(oursAt(ef), truth)
  const peerRecall = peer === null ? NaN : recall(peerAt(ef), truth)

  let qps = 0; let peerQps = 0
  for (let r = 0; r < 3; r++) {
    t = performance.now()
    for (let q = 0; q < QUERIES; q++) ours.search(queries, K, ef, q * DIM)
    qps = Math.max(qps, QUERIES / ((performance.now() - t) / 1000))
    if (peer !== null) {
      peer.setEf(ef)
      t = performance.now()
      for (let q = 0; q < QUERIES; q++) peer.searchKnn(queryArrays[q] as number[], K)
      peerQps = Math.max(peerQps, QUERIES / ((performance.now() - t) / 1000))
    }
  }
  const key = `kernels.hnsw.${label}`
  const ratio = peer === null ? NaN : qps / peerQps
  const met = ourRecall >= 0.95 && ratio >= 0.5
  const noPeer = 'hnswlib-node not installed (npm --prefix bench/peers ci): no peer figures'
  const figs: Figure[] = [
    { key: `${key}.recall_at_10`, value: round(ourRecall, 4), unit: 'recall', goal: '>= 0.95', met: ourRecall >= 0.95, note: `${n}×${DIM} l2, seeded Gaussian clusters (32-d latent), M=${M}, efC=${EF_CONSTRUCTION}, efSearch=${ef}` },
    { key: `${key}.qps`, value: Math.round(qps), unit: 'queries/s', ...(peer === null ? { note: noPeer } : { goal: '>= 50% of peer_qps at recall >= 0.95', met }) },
    { key: `${key}.ef_search`, value: ef, unit: 'ef' },
    { key: `${key}.build_s`, value: round(buildS, 2), unit: 's' }
  ]
  if (peer !== null) {
    figs.push(
      { key: `${key}.peer_recall_at_10`, value: round(peerRecall, 4), unit: 'recall' },
      { key: `${key}.peer_qps`, value: Math.round(peerQps), unit: 'queries/s', note: 'hnswlib-node 3.0.0, one query per call' },
      { key: `${key}.qps_ratio`, value: round(ratio, 3), unit: 'ours/peer' },
      { key: `${key}.peer_build_s`, value: round(peerBuildS, 2), unit: 's' }
    )
  }
  console.error(`kernels-hnsw ${label}: ${figs.map(f => `${f.key.slice(key.length + 1)}=${f.value}`).join(' ')}`)
  return figs
}

/** The hnsw part of the `kernels` benchmark group. @example const figures = await run() */
export async function run (): Promise<Figure[]> {
  const peer = loadPeer()
  const sizes = (process.env.HNSW_BENCH_SIZES ?? '10k,100k').split(',')
  const figures: Figure[] = []
  if (sizes.includes('10k')) figures.push(...await measure(10_000, '10k', peer))
  if (sizes.includes('100k')) figures.push(...await measure(100_000, '100k', peer))
  return figures
}
