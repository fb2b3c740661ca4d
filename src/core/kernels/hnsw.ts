/**
 * A Hierarchical Navigable Small World index (Malkov & Yashunin, "Efficient and robust approximate
 * nearest neighbor search using HNSW graphs", arXiv:1603.09320): greedy descent through sparse
 * upper layers, a beam search of width ef on layer 0, heuristic neighbour selection (Algorithm 4,
 * without extendCandidates / keepPrunedConnections, as hnswlib does), level ~ floor(-ln(U)·mL) with
 * mL = 1/ln(M), Mmax = M on upper layers and Mmax0 = 2M on layer 0.
 *
 * Why not a library: on npm, `hnswlib-node` is a native addon (not for browsers); `hnswlib-wasm`
 * (emscripten, ~3k downloads/week) loads asynchronously, serializes through emscripten's virtual
 * file system rather than to bytes, and its C++ loader trusts its input (a malformed index from an
 * untrusted peer can read out of bounds); `hnsw` (deepfates) is pure TypeScript but keeps nodes in
 * Maps and objects, pulls in `idb`, and is not deterministic across runs. None gives the one thing
 * a verified kernel needs: two workers that insert the same vectors in the same order with the
 * same seed hold byte-identical indexes. So this is written here, for speed: flat float32 vector
 * storage in WebAssembly memory with f32x4 SIMD distances (hnsw-distance.ts; an exact JavaScript
 * emulation where SIMD is missing), typed-array adjacency lists, typed binary heaps, a
 * visited-generation Uint32Array instead of Sets, and vectors pre-normalized for cosine (hnswlib
 * does the same), so cosine costs one dot product. bench/kernels-hnsw.ts measures it against
 * hnswlib-node.
 *
 * Determinism: levels come from a seeded sfc32 generator using integer arithmetic only (a level is
 * the number of leading draws below 2^32/M: P(level >= l) = M^-l, the distribution of
 * floor(-ln(U)/ln(M)) without Math.log, whose last bit may differ between engines). Distances are
 * float32 sums in a fixed order without fused multiply-add (hnsw-distance.ts), so every engine
 * computes the same bits. The generator's state is serialized, so inserting into a deserialized
 * index continues exactly as the original would have.
 *
 * Distances (smaller is nearer, as in hnswlib): 'l2' squared Euclidean; 'cosine' 1 − cos (a zero
 * vector is kept as zero: distance 1 to everything); 'dot' 1 − a·b. Inputs must be finite with
 * |x| <= 1e15, so no float32 distance can overflow (ERR_KERNEL_NON_FINITE otherwise).
 */
import { KernelError } from './errors.ts'
import { HnswHeap } from './hnsw-heap.ts'
import { VectorArena } from './hnsw-distance.ts'
import { readIndex, writeIndex } from './hnsw-format.ts'

/** The distance functions an index can use. @example const m: HnswMetric = 'cosine' */
export type HnswMetric = 'l2' | 'cosine' | 'dot'
/** Every metric, in wire order (the serialized metric byte is the position here). @example HNSW_METRICS[1] // 'cosine' */
export const HNSW_METRICS = ['l2', 'cosine', 'dot'] as const satisfies readonly HnswMetric[]

/**
 * Limits enforced on construction, insertion, search and deserialization.
 * @example HNSW_LIMITS.maxDim // 4096
 */
export const HNSW_LIMITS = {
  maxDim: 4096,
  minM: 2,
  maxM: 100,
  maxEf: 4096,
  maxK: 1024,
  /** At most this many vectors in one index. */
  maxVectors: 1_000_000,
  /** At most this many float32 values (vectors × dim) in one index: 128 MiB. */
  maxValues: 1 << 25,
  /** Levels are capped; a capped draw only flattens the top of a (then very tall) hierarchy. */
  maxLevel: 16,
  /** Largest accepted |value|: keeps every float32 distance finite. */
  maxAbsValue: 1e15
} as const

/** Construction parameters. @example const p: HnswParams = { dim: 128, M: 16, efConstruction: 200, metric: 'l2', seed: 42 } */
export interface HnswParams {
  readonly dim: number
  readonly M: number
  readonly efConstruction: number
  readonly metric: HnswMetric
  /** Seeds the level generator (uint32). */
  readonly seed: number
}

/** One query's answer: ids and distances, nearest first (ties by smaller id). @example res.ids[0] */
export interface HnswResult { readonly ids: Uint32Array, readonly distances: Float64Array }

/** Internal state shared with hnsw-format.ts (serialization). */
export interface HnswState {
  params: HnswParams
  count: number
  /** Vector id lives in slot id + 1; slot 0 is the query scratch. */
  arena: VectorArena
  levels: Uint8Array
  links0: Uint32Array
  upper: Array<Uint32Array | null>
  entry: number
  maxLevel: number
  rng: Uint32Array
}

function checkInt (value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `${what} must be an integer in [${min}, ${max}], got ${String(value)}`)
  }
}

/**
 * Check construction parameters, throwing `ERR_KERNEL_BAD_PARAMETER`.
 * @example validateHnswParams({ dim: 3, M: 16, efConstruction: 200, metric: 'l2', seed: 1 })
 */
export function validateHnswParams (p: HnswParams): void {
  checkInt(p.dim, 1, HNSW_LIMITS.maxDim, 'dim')
  checkInt(p.M, HNSW_LIMITS.minM, HNSW_LIMITS.maxM, 'M')
  checkInt(p.efConstruction, 1, HNSW_LIMITS.maxEf, 'efConstruction')
  checkInt(p.seed, 0, 0xffffffff, 'seed')
  if (!(HNSW_METRICS as readonly string[]).includes(p.metric)) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `metric must be one of ${HNSW_METRICS.join(', ')}`)
}

/** sfc32 (Chris Doty-Humphrey's PractRand small fast counter), state seeded by splitmix32. */
function seedRng (seed: number): Uint32Array {
  const s = new Uint32Array(4)
  let x = seed >>> 0
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0
    let z = x
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    s[i] = (z ^ (z >>> 16)) >>> 0
  }
  return s
}

function nextU32 (s: Uint32Array): number {
  const a = s[0] as number; const b = s[1] as number; const c = s[2] as number; const d = s[3] as number
  const t = (((a + b) >>> 0) + d) >>> 0
  s[3] = (d + 1) >>> 0
  s[0] = b ^ (b >>> 9)
  s[1] = (c + (c << 3)) >>> 0
  s[2] = (((c << 21) | (c >>> 11)) + t) >>> 0
  return t
}

/**
 * An HNSW index over float32 vectors. Ids are insertion order (0, 1, 2, ...). Removal is not
 * supported (issue 3 does not need it).
 *
 * @example
 * const index = HnswIndex.create({ dim: 2, M: 16, efConstruction: 200, metric: 'l2', seed: 7 })
 * index.add(new Float32Array([0, 0])); index.add(new Float32Array([1, 1]))
 * index.search(new Float32Array([0.9, 1]), 1, 50).ids[0] // 1
 * const copy = HnswIndex.deserialize(index.serialize())
 */
export class HnswIndex {
  readonly params: HnswParams
  #s: HnswState
  readonly #m0: number
  readonly #levelThreshold: number
  #visited: Uint32Array
  #gen = 0
  readonly #cand = new HnswHeap()
  readonly #res = new HnswHeap()
  readonly #scratch = new HnswHeap()

  private constructor (state: HnswState) {
    this.#s = state
    this.params = state.params
    this.#m0 = 2 * state.params.M
    this.#levelThreshold = Math.floor(0x100000000 / state.params.M)
    this.#visited = new Uint32Array(state.levels.length)
  }

  /** An empty index. Throws `ERR_KERNEL_BAD_PARAMETER`. @example HnswIndex.create({ dim: 8, M: 16, efConstruction: 100, metric: 'dot', seed: 0 }) */
  static create (params: HnswParams): HnswIndex {
    validateHnswParams(params)
    const p: HnswParams = { dim: params.dim, M: params.M, efConstruction: params.efConstruction, metric: params.metric, seed: params.seed }
    const cap = 16
    return new HnswIndex({
      params: p, count: 0, arena: newArena(p, cap + 1), levels: new Uint8Array(cap),
      links0: new Uint32Array(cap * (2 * p.M + 1)), upper: [], entry: -1, maxLevel: 0, rng: seedRng(p.seed)
    })
  }

  /**
   * Read an index written by {@link HnswIndex.serialize}, validating everything (magic, version,
   * parameters, lengths, finite vectors, neighbour ids in range, on their layer, unique, within
   * Mmax). Any defect is `KernelError` `ERR_KERNEL_BAD_PAYLOAD` (or `ERR_KERNEL_PAYLOAD_TOO_LARGE`).
   * @example HnswIndex.deserialize(index.serialize()).size === index.size
   */
  static deserialize (bytes: Uint8Array): HnswIndex {
    return new HnswIndex(readIndex(bytes))
  }

  /** Number of vectors. @example index.size */
  get size (): number { return this.#s.count }

  /** The bytes of this index; equal states give equal bytes. @example const bytes = index.serialize() */
  serialize (): Uint8Array { return writeIndex(this.#s) }

  /** A copy of stored vector `id` (normalized under 'cosine'). @example index.vector(0) */
  vector (id: number): Float32Array {
    checkInt(id, 0, this.#s.count - 1, 'id')
    const arena = this.#s.arena
    return arena.values.slice((id + 1) * arena.stride, (id + 1) * arena.stride + arena.dim)
  }

  /**
   * Insert one vector (`vector` itself, or the `dim` values of a packed matrix from offset `at`);
   * returns its id. Throws `ERR_KERNEL_DIMENSION_MISMATCH`,
   * `ERR_KERNEL_NON_FINITE` or `ERR_KERNEL_PAYLOAD_TOO_LARGE`, leaving the index unchanged.
   * @example const id = index.add(new Float32Array(index.params.dim))
   */
  add (vector: Float32Array, at?: number): number {
    const s = this.#s
    const { dim, M, efConstruction } = this.params
    const offset = at ?? 0
    if (at === undefined ? vector.length !== dim : !Number.isInteger(at) || at < 0 || at + dim > vector.length) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `vector has ${vector.length - offset} values, index dim is ${dim}`)
    if (s.count >= HNSW_LIMITS.maxVectors || (s.count + 1) * dim > HNSW_LIMITS.maxValues) {
      throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `index is full (${HNSW_LIMITS.maxVectors} vectors or ${HNSW_LIMITS.maxValues} values)`)
    }
    const scale = this.#scale(vector, offset, 'vector')
    const id = s.count
    this.#ensureCapacity(id + 1)
    const slot = id + 1
    s.arena.write(slot, vector, offset, scale)
    let level = 0
    while (level < HNSW_LIMITS.maxLevel && nextU32(s.rng) < this.#levelThreshold) level++
    s.levels[id] = level
    s.upper[id] = level > 0 ? new Uint32Array(level * (M + 1)) : null
    s.count = id + 1
    if (s.entry < 0) { s.entry = id; s.maxLevel = level; return id }

    const arena = s.arena
    let cur = s.entry
    let curDist = arena.distance(slot, cur + 1)
    for (let l = s.maxLevel; l > level; l--) {
      cur = this.#greedy(slot, cur, curDist, l)
      curDist = arena.distance(slot, cur + 1)
    }
    for (let l = Math.min(level, s.maxLevel); l >= 0; l--) {
      this.#searchLayer(slot, cur, curDist, efConstruction, l)
      const selected = this.#selectFromResults(M)
      this.#setLinks(id, l, selected)
      for (const n of selected) this.#linkBack(n, id, l)
      cur = selected[0] as number
      curDist = arena.distance(slot, cur + 1)
    }
    if (level > s.maxLevel) { s.entry = id; s.maxLevel = level }
    return id
  }

  /**
   * The `k` nearest stored vectors to `query`, searching layer 0 with a beam of
   * max(efSearch, k). Fewer than `k` results when the index holds fewer vectors. `at`: as for add().
   * @example index.search(query, 10, 64).ids
   */
  search (query: Float32Array, k: number, efSearch: number, at?: number): HnswResult {
    const s = this.#s
    const dim = this.params.dim
    checkInt(k, 1, HNSW_LIMITS.maxK, 'k')
    checkInt(efSearch, 1, HNSW_LIMITS.maxEf, 'efSearch')
    const offset = at ?? 0
    if (at === undefined ? query.length !== dim : !Number.isInteger(at) || at < 0 || at + dim > query.length) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `query has ${query.length - offset} values, index dim is ${dim}`)
    const scale = this.#scale(query, offset, 'query')
    if (s.count === 0) return { ids: new Uint32Array(0), distances: new Float64Array(0) }
    const arena = s.arena
    arena.write(0, query, offset, scale)
    let cur = s.entry
    let curDist = arena.distance(0, cur + 1)
    for (let l = s.maxLevel; l > 0; l--) {
      cur = this.#greedy(0, cur, curDist, l)
      curDist = arena.distance(0, cur + 1)
    }
    this.#searchLayer(0, cur, curDist, Math.max(efSearch, k), 0)
    const res = this.#res
    while (res.size > k) res.pop()
    const n = res.size
    const ids = new Uint32Array(n); const distances = new Float64Array(n)
    for (let i = n - 1; i >= 0; i--) { distances[i] = res.topKey(); ids[i] = res.pop() }
    sortTies(ids, distances)
    return { ids, distances }
  }

  /** Validate a vector's values; return the factor that normalizes it under cosine (else 1). */
  #scale (v: Float32Array, offset: number, what: string): number {
    const dim = this.params.dim
    let norm = 0
    for (let i = 0; i < dim; i++) {
      const x = v[offset + i] as number
      if (!(Math.abs(x) <= HNSW_LIMITS.maxAbsValue)) throw new KernelError('ERR_KERNEL_NON_FINITE', `${what}[${i}] is ${String(x)}: not finite or over ${HNSW_LIMITS.maxAbsValue} in magnitude`)
      norm += x * x
    }
    return this.params.metric === 'cosine' && norm > 0 ? 1 / Math.sqrt(norm) : 1
  }

  #ensureCapacity (need: number): void {
    const s = this.#s
    const cap = this.#visited.length
    if (need <= cap) return
    const next = Math.max(need, cap * 2, 16)
    s.arena.ensure(next + 1)
    const levels = new Uint8Array(next); levels.set(s.levels); s.levels = levels
    const links0 = new Uint32Array(next * (this.#m0 + 1)); links0.set(s.links0); s.links0 = links0
    const visited = new Uint32Array(next); visited.set(this.#visited); this.#visited = visited
  }

  /** hnswlib's greedy walk on an upper layer: move to any closer neighbour until none is. */
  #greedy (from: number, start: number, startDist: number, level: number): number {
    const s = this.#s; const arena = s.arena; const stride = this.params.M + 1
    let cur = start; let curDist = startDist; let changed = true
    while (changed) {
      changed = false
      const links = s.upper[cur] as Uint32Array
      const off = (level - 1) * stride
      const n = links[off] as number
      for (let j = 1; j <= n; j++) {
        const e = links[off + j] as number
        const d = arena.distance(from, e + 1)
        if (d < curDist) { curDist = d; cur = e; changed = true }
      }
    }
    return cur
  }

  /** Algorithm 2 (SEARCH-LAYER): leaves the ef nearest found in this.#res (a max-heap). */
  #searchLayer (from: number, ep: number, epDist: number, ef: number, level: number): void {
    const s = this.#s; const arena = s.arena
    const visited = this.#visited
    if (++this.#gen === 0xffffffff) { visited.fill(0); this.#gen = 1 }
    const gen = this.#gen
    const cand = this.#cand; const res = this.#res
    cand.clear(); res.clear()
    visited[ep] = gen
    cand.push(-epDist, ep); res.push(epDist, ep)
    const m0 = this.#m0; const stride = this.params.M + 1
    while (cand.size > 0) {
      const d = -cand.topKey()
      if (d > res.topKey() && res.size >= ef) break
      const c = cand.pop()
      let links: Uint32Array; let off: number
      if (level === 0) { links = s.links0; off = c * (m0 + 1) } else { links = s.upper[c] as Uint32Array; off = (level - 1) * stride }
      const n = links[off] as number
      for (let j = 1; j <= n; j++) {
        const e = links[off + j] as number
        if (visited[e] === gen) continue
        visited[e] = gen
        const de = arena.distance(from, e + 1)
        if (res.size < ef || de < res.topKey()) {
          cand.push(-de, e); res.push(de, e)
          if (res.size > ef) res.pop()
        }
      }
    }
  }

  /** Drain this.#res nearest-first and apply the heuristic (Algorithm 4). */
  #selectFromResults (m: number): number[] {
    const res = this.#res
    const n = res.size
    const ids = new Array<number>(n); const dists = new Array<number>(n)
    for (let i = n - 1; i >= 0; i--) { dists[i] = res.topKey(); ids[i] = res.pop() }
    return this.#heuristic(ids, dists, m)
  }

  /** Keep a candidate only if it is nearer to the base than to every neighbour kept so far. */
  #heuristic (ids: number[], dists: number[], m: number): number[] {
    if (ids.length <= m) return ids
    const arena = this.#s.arena
    const out: number[] = []
    for (let i = 0; i < ids.length && out.length < m; i++) {
      const e = ids[i] as number; const de = dists[i] as number
      let good = true
      for (const r of out) {
        if (arena.distance(e + 1, r + 1) < de) { good = false; break }
      }
      if (good) out.push(e)
    }
    return out
  }

  #setLinks (id: number, level: number, list: number[]): void {
    const s = this.#s
    const [links, off] = level === 0 ? [s.links0, id * (this.#m0 + 1)] : [s.upper[id] as Uint32Array, (level - 1) * (this.params.M + 1)]
    links[off] = list.length
    for (let j = 0; j < list.length; j++) links[off + 1 + j] = list[j] as number
  }

  /** Add `id` to `n`'s list on `level`, shrinking it with the heuristic when over Mmax. */
  #linkBack (n: number, id: number, level: number): void {
    const s = this.#s
    const mmax = level === 0 ? this.#m0 : this.params.M
    const [links, off] = level === 0 ? [s.links0, n * (this.#m0 + 1)] : [s.upper[n] as Uint32Array, (level - 1) * (this.params.M + 1)]
    const count = links[off] as number
    if (count < mmax) { links[off + 1 + count] = id; links[off] = count + 1; return }
    const arena = s.arena
    const heap = this.#scratch
    heap.clear()
    heap.push(arena.distance(n + 1, id + 1), id)
    for (let j = 1; j <= count; j++) {
      const e = links[off + j] as number
      heap.push(arena.distance(n + 1, e + 1), e)
    }
    const ids = new Array<number>(heap.size); const dists = new Array<number>(heap.size)
    for (let i = heap.size - 1; i >= 0; i--) { dists[i] = heap.topKey(); ids[i] = heap.pop() }
    this.#setLinks(n, level, this.#heuristic(ids, dists, mmax))
  }
}

/** A vector store with room for `slots` slots and the metric's distance. */
export function newArena (p: HnswParams, slots: number): VectorArena {
  const arena = new VectorArena(p.dim, p.metric === 'l2' ? 'l2' : 'ip')
  arena.ensure(slots)
  return arena
}

/** Order equal distances by id, so the answer does not depend on heap internals. */
function sortTies (ids: Uint32Array, dists: Float64Array): void {
  for (let i = 1; i < ids.length; i++) {
    const id = ids[i] as number; const d = dists[i] as number
    let j = i - 1
    while (j >= 0 && (dists[j] as number) === d && (ids[j] as number) > id) { ids[j + 1] = ids[j] as number; j-- }
    ids[j + 1] = id
  }
}
