/**
 * The `vector_insert` and `vector_search` kernels over the HNSW index of hnsw.ts (issue 3 §3).
 *
 * Payloads and outputs are canonical CBOR maps (src/core/codec); float vectors are little-endian
 * float32 byte strings (floats.ts); an index is the byte string of `HnswIndex.serialize()`.
 *
 * vector_insert
 *   payload `{ index?: bytes, params?: { dim, M, efConstruction, metric, seed }, vectors: bytes, count }`:
 *   exactly one of `index` (insert into it) or `params` (start a new index). `vectors` holds
 *   `count × dim` float32 values, inserted in order, so ids continue from the index's size.
 *   output `{ index: bytes, count }` (count = vectors in the new index).
 *   size: `count` (price unit 'vector': the vectors inserted).
 *   agree: exact bytes. Insertion is deterministic (seeded levels, integer-only level draws, doubles
 *   without FMA), so honest workers produce byte-identical indexes; the index must also validate.
 *
 * vector_search
 *   payload `{ index: bytes, queries: bytes, k, efSearch }`: the index must be a serialized one (we
 *   do not build from raw vectors here: building is vector_insert's work and price). `queries`
 *   holds a whole number of `dim`-vectors.
 *   output `{ ids: [[id, ...], ...], distances: [float32 bytes, ...] }`, one entry per query,
 *   nearest first, ties by id; min(k, index size) results each. Distances as in hnsw.ts (l2:
 *   squared Euclidean; cosine: 1 − cos; dot: 1 − a·b).
 *   size: `indexSize + queries × max(efSearch, k)` vectors. The vectors a search actually visits
 *   depend on the graph and are not a quantity two parties can check; this deterministic figure
 *   tracks the real cost: loading the index is linear in its size, and each query keeps a beam of
 *   max(efSearch, k) candidates, its work growing with that beam and only logarithmically with the
 *   index (arXiv:1603.09320 §4.2). Priced at '1 credit / 1K vectors' (economy/prices.ts).
 *   agree: same number of queries, identical id lists, and each distance within 1e-6 relative
 *   (|a − b| <= 1e-6 × max(1, |a|, |b|): relative, with an absolute floor of 1e-6 for distances
 *   below 1, as a cosine distance of a near-duplicate is ~0 and a relative test there is noise).
 *
 * Limits (VECTOR_LIMITS and HNSW_LIMITS): payload and output <= 256 MiB; dim <= 4096; M in
 * [2, 100]; efConstruction, efSearch in [1, 4096]; k in [1, 1024]; index <= 1,000,000 vectors and
 * <= 2^25 float32 values; queries <= 100,000 per task; count >= 1. An insert is refused up front
 * (ERR_KERNEL_PAYLOAD_TOO_LARGE) when its output could pass 256 MiB: vectors plus full layer-0
 * lists (1 + 8M bytes each) plus 16 MiB for the upper layers (expected n·(1 + 4M)/(M − 1) bytes,
 * under 10 MB at a million vectors); run() re-checks the real output size.
 */
import { encodeCanonical } from '../codec/index.ts'
import { equalBytes } from '../bytes.ts'
import { KernelError } from './errors.ts'
import { PayloadFields } from './fields.ts'
import { bytesToFloats, bytesToMatrix, floatsToBytes } from './floats.ts'
import { HNSW_LIMITS, HNSW_METRICS, HnswIndex, validateHnswParams } from './hnsw.ts'
import type { HnswMetric, HnswParams } from './hnsw.ts'
import type { Kernel, KernelRunOptions } from './types.ts'

/** Kernel-level limits (see also HNSW_LIMITS). @example VECTOR_LIMITS.maxQueries // 100000 */
export const VECTOR_LIMITS = {
  maxPayloadBytes: 256 * 1024 * 1024,
  maxQueries: 100_000
} as const

/** Relative tolerance of vector_search's comparator. @example VECTOR_SEARCH_TOLERANCE // 1e-6 */
export const VECTOR_SEARCH_TOLERANCE = 1e-6

/** What a client gives to build a vector_insert payload. @example const input: VectorInsertInput = { params, vectors, count: 2 } */
export type VectorInsertInput =
  | { readonly index: Uint8Array, readonly vectors: Float32Array, readonly count: number }
  | { readonly params: HnswParams, readonly vectors: Float32Array, readonly count: number }

/** What vector_insert returns. @example decodeVectorInsertOutput(out).count */
export interface VectorInsertOutput { readonly index: Uint8Array, readonly count: number }

/** What a client gives to build a vector_search payload. @example const input: VectorSearchInput = { index, queries, k: 10, efSearch: 64 } */
export interface VectorSearchInput { readonly index: Uint8Array, readonly queries: Float32Array, readonly k: number, readonly efSearch: number }

/** What vector_search returns: per query, ids and distances nearest first. @example out.ids[0]?.[0] */
export interface VectorSearchOutput { readonly ids: Uint32Array[], readonly distances: Float32Array[] }

/** Decode a map that may hold only `allowed` (a missing field fails when it is read). */
function decode (bytes: Uint8Array, allowed: readonly string[], what: string): PayloadFields {
  return PayloadFields.decode(bytes, { maxBytes: VECTOR_LIMITS.maxPayloadBytes, what }).only([], allowed)
}

function decodeParams (f: PayloadFields): HnswParams {
  const p = f.map('params').only([], ['dim', 'M', 'efConstruction', 'metric', 'seed'])
  p.text('metric') // a non-text metric is malformed; an unknown name is a refused parameter
  const metric = p.choice('metric', HNSW_METRICS, 'ERR_KERNEL_BAD_PARAMETER')
  const params: HnswParams = {
    dim: p.int('dim', { min: 1, max: HNSW_LIMITS.maxDim }),
    M: p.int('M', { min: HNSW_LIMITS.minM, max: HNSW_LIMITS.maxM }),
    efConstruction: p.int('efConstruction', { min: 1, max: HNSW_LIMITS.maxEf }),
    metric,
    seed: p.int('seed', { min: 0, max: 0xffffffff })
  }
  validateHnswParams(params)
  return params
}

const UPPER_LAYER_HEADROOM = 16 * 1024 * 1024

interface InsertJob { index: HnswIndex, vectors: Float32Array, count: number }

function parseInsert (payload: Uint8Array): InsertJob {
  const f = decode(payload, ['index', 'params', 'vectors', 'count'], 'vector_insert payload')
  if (f.has('index') === f.has('params')) throw f.error('give exactly one of index or params')
  const index = f.has('index') ? HnswIndex.deserialize(f.bytes('index')) : HnswIndex.create(decodeParams(f))
  const count = f.int('count', { min: 1, max: HNSW_LIMITS.maxVectors })
  const dim = index.params.dim
  if (index.size + count > HNSW_LIMITS.maxVectors || (index.size + count) * dim > HNSW_LIMITS.maxValues) {
    throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `vector_insert: ${index.size} + ${count} vectors of dim ${dim} is over the index limit`)
  }
  const total = index.size + count
  if (48 + total * (dim * 4 + 2 + 8 * index.params.M) > VECTOR_LIMITS.maxPayloadBytes - UPPER_LAYER_HEADROOM) {
    throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `vector_insert: an index of ${total} vectors (dim ${dim}, M ${index.params.M}) could pass the ${VECTOR_LIMITS.maxPayloadBytes}-byte output limit`)
  }
  const vectors = bytesToMatrix(f.bytes('vectors'), count, dim, 'vectors')
  return { index, vectors, count }
}

interface SearchJob { index: HnswIndex, queries: Float32Array, nq: number, k: number, efSearch: number }

function parseSearch (payload: Uint8Array): SearchJob {
  const f = decode(payload, ['index', 'queries', 'k', 'efSearch'], 'vector_search payload')
  const k = f.int('k', { min: 1, max: HNSW_LIMITS.maxK })
  const efSearch = f.int('efSearch', { min: 1, max: HNSW_LIMITS.maxEf })
  const index = HnswIndex.deserialize(f.bytes('index'))
  const queries = f.floats('queries')
  const dim = index.params.dim
  if (queries.length === 0 || queries.length % dim !== 0) {
    throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `queries: ${queries.length} values is not a positive whole number of dim-${dim} vectors`)
  }
  const nq = queries.length / dim
  if (nq > VECTOR_LIMITS.maxQueries) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${nq} queries, more than ${VECTOR_LIMITS.maxQueries}`)
  return { index, queries, nq, k, efSearch }
}

/**
 * Build a vector_insert payload.
 * @example
 * encodeVectorInsertPayload({ params: { dim: 2, M: 16, efConstruction: 200, metric: 'l2', seed: 1 }, vectors: new Float32Array([0, 1, 2, 3]), count: 2 })
 */
export function encodeVectorInsertPayload (input: VectorInsertInput): Uint8Array {
  const vectors = floatsToBytes(input.vectors)
  if ('index' in input) return encodeCanonical({ index: input.index, vectors, count: input.count })
  const p = input.params
  return encodeCanonical({ params: { dim: p.dim, M: p.M, efConstruction: p.efConstruction, metric: p.metric, seed: p.seed }, vectors, count: input.count })
}

/** Read a vector_insert output. Throws `ERR_KERNEL_BAD_PAYLOAD`. @example HnswIndex.deserialize(decodeVectorInsertOutput(out).index) */
export function decodeVectorInsertOutput (bytes: Uint8Array): VectorInsertOutput {
  const f = decode(bytes, ['index', 'count'], 'vector_insert output')
  return { index: f.bytes('index'), count: f.int('count', { min: 0, max: HNSW_LIMITS.maxVectors }) }
}

/** Build a vector_search payload. @example encodeVectorSearchPayload({ index, queries, k: 10, efSearch: 64 }) */
export function encodeVectorSearchPayload (input: VectorSearchInput): Uint8Array {
  return encodeCanonical({ index: input.index, queries: floatsToBytes(input.queries), k: input.k, efSearch: input.efSearch })
}

/** Read a vector_search output. Throws `ERR_KERNEL_BAD_PAYLOAD`. @example decodeVectorSearchOutput(out).ids[0] */
export function decodeVectorSearchOutput (bytes: Uint8Array): VectorSearchOutput {
  const f = decode(bytes, ['ids', 'distances'], 'vector_search output')
  const idLists = f.value('ids'); const distLists = f.value('distances')
  if (!Array.isArray(idLists) || !Array.isArray(distLists) || idLists.length !== distLists.length) throw f.error('ids and distances must be arrays of one length')
  const ids: Uint32Array[] = []; const distances: Float32Array[] = []
  for (let q = 0; q < idLists.length; q++) {
    const list = idLists[q]
    if (!Array.isArray(list)) throw f.error(`ids[${q}] is not an array`)
    const row = new Uint32Array(list.length)
    for (let i = 0; i < list.length; i++) {
      const id = list[i]
      if (typeof id !== 'number' || id < 0 || id > 0xffffffff) throw f.error(`ids[${q}][${i}] is not a uint32`)
      row[i] = id
    }
    const d = distLists[q]
    if (!(d instanceof Uint8Array)) throw f.error(`distances[${q}] is not a byte string`)
    const dist = bytesToFloats(d, `distances[${q}]`)
    if (dist.length !== row.length) throw f.error(`query ${q} has ${row.length} ids and ${dist.length} distances`)
    ids.push(row); distances.push(dist)
  }
  return { ids, distances }
}

const CHECK_EVERY = 256

/**
 * vector_insert: add vectors to an HNSW index (or start one). See the module doc for payload,
 * output, size and agreement.
 * @example
 * const out = decodeVectorInsertOutput(await vectorInsertKernel.run(payload))
 */
export const vectorInsertKernel: Kernel = {
  type: 'vector_insert',
  size (payload: Uint8Array): number { return parseInsert(payload).count },
  async run (payload: Uint8Array, options?: KernelRunOptions): Promise<Uint8Array> {
    const { index, vectors, count } = parseInsert(payload)
    const dim = index.params.dim
    // The loop is synchronous: an abort raised elsewhere is seen between chunks only if it was
    // delivered synchronously; the worker pool's wall-time kill is the hard stop.
    for (let i = 0; i < count; i++) {
      if (i % CHECK_EVERY === 0) options?.signal?.throwIfAborted()
      index.add(vectors, i * dim)
    }
    const out = encodeCanonical({ index: index.serialize(), count: index.size })
    if (out.length > VECTOR_LIMITS.maxPayloadBytes) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `vector_insert output is ${out.length} bytes`)
    return out
  },
  agree (a: Uint8Array, b: Uint8Array): boolean {
    try {
      if (!equalBytes(a, b)) return false
      HnswIndex.deserialize(decodeVectorInsertOutput(a).index)
      return true
    } catch { return false }
  }
}

/**
 * vector_search: the k nearest neighbours of each query in a serialized HNSW index. See the module
 * doc for payload, output, size and agreement.
 * @example
 * const { ids, distances } = decodeVectorSearchOutput(await vectorSearchKernel.run(payload))
 */
export const vectorSearchKernel: Kernel = {
  type: 'vector_search',
  size (payload: Uint8Array): number {
    const job = parseSearch(payload)
    return job.index.size + job.nq * Math.max(job.efSearch, job.k)
  },
  async run (payload: Uint8Array, options?: KernelRunOptions): Promise<Uint8Array> {
    const { index, queries, nq, k, efSearch } = parseSearch(payload)
    const dim = index.params.dim
    const ids: number[][] = []; const distances: Uint8Array[] = []
    for (let q = 0; q < nq; q++) {
      if (q % CHECK_EVERY === 0) options?.signal?.throwIfAborted()
      const res = index.search(queries, k, efSearch, q * dim)
      ids.push(Array.from(res.ids))
      distances.push(floatsToBytes(Float32Array.from(res.distances)))
    }
    return encodeCanonical({ ids, distances })
  },
  agree (a: Uint8Array, b: Uint8Array): boolean {
    try {
      const x = decodeVectorSearchOutput(a); const y = decodeVectorSearchOutput(b)
      if (x.ids.length !== y.ids.length) return false
      for (let q = 0; q < x.ids.length; q++) {
        const xi = x.ids[q] as Uint32Array; const yi = y.ids[q] as Uint32Array
        const xd = x.distances[q] as Float32Array; const yd = y.distances[q] as Float32Array
        if (xi.length !== yi.length) return false
        for (let i = 0; i < xi.length; i++) {
          if (xi[i] !== yi[i]) return false
          const u = xd[i] as number; const v = yd[i] as number
          if (Math.abs(u - v) > VECTOR_SEARCH_TOLERANCE * Math.max(1, Math.abs(u), Math.abs(v))) return false
        }
      }
      return true
    } catch { return false }
  }
}
