/**
 * A seeded, mixed workload over every task type that has a kernel (issue 4 §3: `edge-net demo`
 * "runs a mixed workload over every task type"). One seed gives the same tasks, byte for byte, on
 * every run and every machine, so a demo or a test that fails can be replayed.
 *
 * Each task is built with its kernel module's own encode helpers (never hand-written CBOR), small
 * enough to run in a few milliseconds on one core and to travel in one network message (payload
 * and output under {@link WORKLOAD_MAX_PAYLOAD_BYTES}), and shaped like real work: a few hundred
 * clustered dim-32 vectors for search, a 2-layer MLP or a LIF network, a few KiB to encrypt or
 * quantize, a handful of sentences to embed or match, a hash of a few KiB in a metered WASM module.
 *
 * Order: tasks come in rounds; each round holds every requested type once, in a seeded order, so
 * every type appears as soon as `count` reaches the number of types and the mix stays even. Task i
 * draws from its own generator seeded by (seed, i), so a workload of n tasks is a prefix of one of
 * n + 1 tasks with the same seed.
 *
 * Randomness is `seededRandom` (memory-network.ts), never `Math.random`; values are made with
 * +, × and float32 rounding only (no Math.log/Math.cos, whose last bit ECMAScript leaves to the
 * engine), so the bytes do not depend on the JavaScript engine. Demo data only: the AES keys come
 * from this seeded generator, so they are not secret.
 */
import { TASK_TYPES } from '../core/economy/prices.ts'
import type { TaskType } from '../core/economy/prices.ts'
import { KernelError } from '../core/kernels/errors.ts'
import { KERNELS, kernelFor } from '../core/kernels/registry.ts'
import type { Kernel, KernelRunOptions } from '../core/kernels/types.ts'
import { HnswIndex, HNSW_METRICS } from '../core/kernels/hnsw.ts'
import { encodeVectorInsertPayload, encodeVectorSearchPayload } from '../core/kernels/vector.ts'
import { DEFAULT_EMBEDDER, encodeEmbeddingPayload } from '../core/kernels/embedding.ts'
import { encodeSemanticMatchPayload } from '../core/kernels/semantic-match.ts'
import { encodeNeuralPayload } from '../core/kernels/neural.ts'
import type { MlpActivation, MlpLayer } from '../core/kernels/mlp.ts'
import { encodeEncryptionPayload } from '../core/kernels/encryption.ts'
import { encodeDequantizePayload, encodeQuantizePayload, quantize, QUANTIZE_BITS } from '../core/kernels/compression.ts'
import { encodeCustomWasmPayload } from '../core/kernels/custom-wasm.ts'
import { seededRandom } from './memory-network.ts'

/** One generated task: its type, its kernel payload and a short description. @example const t: WorkloadTask = { type: 'encryption', payload, label: 'encrypt 2 KiB' } */
export interface WorkloadTask {
  readonly type: TaskType
  readonly payload: Uint8Array
  readonly label: string
}

/** What {@link mixedWorkload} generates. @example const o: WorkloadOptions = { seed: 7, count: 200 } */
export interface WorkloadOptions {
  /** Any safe integer; the same seed gives the same tasks. */
  readonly seed: number
  /** Number of tasks, 0..{@link WORKLOAD_MAX_COUNT}. */
  readonly count: number
  /** Types to draw from (default {@link WORKLOAD_TYPES}); each must have a kernel. */
  readonly types?: readonly TaskType[]
}

/** Most tasks in one workload (about 15 KiB each: 10,000 hold ~150 MB). @example WORKLOAD_MAX_COUNT === 10_000 */
export const WORKLOAD_MAX_COUNT = 10_000

/**
 * Every payload and every output stays below this (48 KiB): a task and its result each fit one
 * 64 KiB message with room for the envelope and signatures.
 * @example WORKLOAD_MAX_PAYLOAD_BYTES === 49_152
 */
export const WORKLOAD_MAX_PAYLOAD_BYTES = 48 * 1024

type Random = () => number

/** Integer in [lo, hi]. */
function int (r: Random, lo: number, hi: number): number { return lo + Math.floor(r() * (hi - lo + 1)) }
function pick<T> (r: Random, items: readonly T[]): T { return items[Math.floor(r() * items.length)] as T }
function uniform (r: Random, lo: number, hi: number): number { return lo + (hi - lo) * r() }
/** Roughly normal, mean 0, variance 1 (Irwin–Hall: the sum of 12 uniforms − 6), with + only. */
function normal (r: Random): number { let s = -6; for (let i = 0; i < 12; i++) s += r(); return s }
function bytes (r: Random, n: number): Uint8Array { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256); return b }
function kib (n: number): string { return n >= 1024 ? `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB` : `${n} B` }

/** `count` vectors of `dim` around a few random centres (clustered, as real embeddings are). */
function clustered (r: Random, count: number, dim: number, centres: Float32Array, spread: number): Float32Array {
  const k = centres.length / dim
  const out = new Float32Array(count * dim)
  for (let v = 0; v < count; v++) {
    const c = Math.floor(r() * k)
    for (let d = 0; d < dim; d++) out[v * dim + d] = (centres[c * dim + d] as number) + spread * normal(r)
  }
  return out
}

function centres (r: Random, k: number, dim: number): Float32Array {
  const out = new Float32Array(k * dim)
  for (let i = 0; i < out.length; i++) out[i] = uniform(r, -1, 1)
  return out
}

const VECTOR_DIM = 32

/** An HNSW index over `n` clustered vectors, built with the kernel's own index (hnsw.ts). */
function buildIndex (r: Random, n: number, metric: typeof HNSW_METRICS[number], cs: Float32Array): HnswIndex {
  const index = HnswIndex.create({ dim: VECTOR_DIM, M: int(r, 6, 10), efConstruction: int(r, 32, 64), metric, seed: int(r, 0, 0xffffffff) })
  const vectors = clustered(r, n, VECTOR_DIM, cs, 0.15)
  for (let i = 0; i < n; i++) index.add(vectors, i * VECTOR_DIM)
  return index
}

function vectorSearch (r: Random): { payload: Uint8Array, label: string } {
  const metric = pick(r, HNSW_METRICS)
  const cs = centres(r, int(r, 4, 8), VECTOR_DIM)
  // At most 200 vectors: 200 × (128 bytes of vector + 1 level byte + a layer-0 list of at most
  // 2M = 20 links, 81 bytes) ≈ 42 KB with the queries, under WORKLOAD_MAX_PAYLOAD_BYTES.
  const n = int(r, 150, 200)
  const index = buildIndex(r, n, metric, cs)
  const nq = int(r, 4, 16)
  const k = pick(r, [5, 10])
  const payload = encodeVectorSearchPayload({ index: index.serialize(), queries: clustered(r, nq, VECTOR_DIM, cs, 0.15), k, efSearch: int(r, 32, 64) })
  return { payload, label: `search ${nq} queries, top ${k} of ${n} vectors (${metric})` }
}

function vectorInsert (r: Random): { payload: Uint8Array, label: string } {
  const metric = pick(r, HNSW_METRICS)
  const cs = centres(r, int(r, 4, 8), VECTOR_DIM)
  const count = int(r, 48, 112) // with up to 80 existing: an output index of <= 192 vectors, < 42 KB
  const vectors = clustered(r, count, VECTOR_DIM, cs, 0.15)
  if (r() < 0.5) {
    const params = { dim: VECTOR_DIM, M: int(r, 6, 10), efConstruction: int(r, 32, 64), metric, seed: int(r, 0, 0xffffffff) }
    return { payload: encodeVectorInsertPayload({ params, vectors, count }), label: `index ${count} vectors (${metric})` }
  }
  const existing = int(r, 32, 80)
  const index = buildIndex(r, existing, metric, cs)
  return { payload: encodeVectorInsertPayload({ index: index.serialize(), vectors, count }), label: `insert ${count} vectors into ${existing} (${metric})` }
}

const WORDS = [
  'the', 'a', 'network', 'node', 'peer', 'ledger', 'credit', 'task', 'worker', 'result', 'model', 'vector',
  'search', 'index', 'image', 'audio', 'text', 'review', 'ticket', 'invoice', 'customer', 'weather', 'city',
  'river', 'mountain', 'music', 'guitar', 'recipe', 'bread', 'coffee', 'train', 'station', 'delayed', 'fast',
  'slow', 'cheap', 'secure', 'encrypted', 'compressed', 'verified', 'quickly', 'today', 'tomorrow', 'runs',
  'sends', 'stores', 'finds', 'reads', 'writes', 'learns', 'with', 'from', 'into', 'about', 'over', 'under'
] as const

function sentence (r: Random): string {
  const n = int(r, 6, 16)
  const words: string[] = []
  for (let i = 0; i < n; i++) words.push(pick(r, WORDS))
  return words.join(' ')
}

function embedding (r: Random): { payload: Uint8Array, label: string } {
  const n = int(r, 4, 12)
  const texts = Array.from({ length: n }, () => sentence(r))
  return { payload: encodeEmbeddingPayload({ model: DEFAULT_EMBEDDER.id, texts }), label: `embed ${n} texts` }
}

const VERBS = ['translate', 'summarize', 'classify', 'tag', 'transcribe', 'rank', 'deduplicate', 'index', 'caption', 'moderate'] as const
const OBJECTS = ['documents', 'images', 'audio clips', 'product reviews', 'log lines', 'support tickets', 'source code', 'news articles', 'invoices', 'videos'] as const
const QUALIFIERS = ['into French', 'by sentiment', 'for spam', 'by topic', 'in real time', 'in bulk', 'with high accuracy', 'cheaply', 'for a search engine', 'by language'] as const

function semanticMatch (r: Random): { payload: Uint8Array, label: string } {
  const nt = int(r, 2, 4)
  const nc = int(r, 8, 24)
  const tasks = Array.from({ length: nt }, () => `${pick(r, VERBS)} ${pick(r, OBJECTS)} ${pick(r, QUALIFIERS)}`)
  const candidates = Array.from({ length: nc }, () => `a worker that can ${pick(r, VERBS)} ${pick(r, OBJECTS)} ${pick(r, QUALIFIERS)}`)
  const k = int(r, 3, 5)
  return { payload: encodeSemanticMatchPayload({ model: DEFAULT_EMBEDDER.id, tasks, candidates, k }), label: `match ${nt} tasks to ${nc} workers, top ${k}` }
}

/** A dense layer with uniform weights of scale 1/sqrt(in) (Glorot-like, so activations stay in range). */
function layer (r: Random, nIn: number, nOut: number, activation: MlpActivation): MlpLayer {
  const weights = new Float32Array(nIn * nOut)
  const scale = 1 / Math.sqrt(nIn)
  for (let i = 0; i < weights.length; i++) weights[i] = uniform(r, -scale, scale)
  const bias = new Float32Array(nOut)
  for (let i = 0; i < nOut; i++) bias[i] = uniform(r, -0.1, 0.1)
  return { in: nIn, out: nOut, weights, bias, activation }
}

function neural (r: Random): { payload: Uint8Array, label: string } {
  if (r() < 0.5) {
    const rows = int(r, 8, 32); const nIn = int(r, 16, 48); const hidden = int(r, 32, 64); const out = int(r, 4, 10)
    const input = new Float32Array(rows * nIn)
    for (let i = 0; i < input.length; i++) input[i] = normal(r)
    const layers = [layer(r, nIn, hidden, pick(r, ['relu', 'tanh', 'sigmoid'] as const)), layer(r, hidden, out, pick(r, ['softmax', 'linear'] as const))]
    return { payload: encodeNeuralPayload({ model: 'mlp', rows, input, layers }), label: `mlp ${rows} rows ${nIn}→${hidden}→${out}` }
  }
  // Leaky integrate-and-fire (Gerstner & Kistler): Bernoulli input spikes, mostly excitatory
  // weights sized so that a neuron crosses the threshold every few steps.
  const nIn = int(r, 16, 32); const neurons = int(r, 16, 48); const steps = int(r, 20, 60); const batch = int(r, 1, 4)
  const rate = uniform(r, 0.1, 0.3)
  const weights = new Float32Array(neurons * nIn)
  for (let i = 0; i < weights.length; i++) weights[i] = uniform(r, -0.1, 0.4)
  let recurrent: Float32Array | undefined
  if (r() < 0.5) {
    recurrent = new Float32Array(neurons * neurons)
    for (let i = 0; i < recurrent.length; i++) recurrent[i] = uniform(r, -0.2, 0.1)
  }
  const rowBytes = Math.ceil(nIn / 8)
  const spikes = new Uint8Array(batch * steps * rowBytes)
  for (let row = 0; row < batch * steps; row++) {
    for (let i = 0; i < nIn; i++) if (r() < rate) spikes[row * rowBytes + (i >> 3)] = (spikes[row * rowBytes + (i >> 3)] as number) | (1 << (i & 7))
  }
  const network = {
    in: nIn, neurons, weights, leak: Math.fround(uniform(r, 0.8, 0.95)), threshold: 1, reset: 0, refractory: int(r, 0, 3),
    ...(recurrent === undefined ? {} : { recurrent })
  }
  return { payload: encodeNeuralPayload({ model: 'lif', network, input: { batch, steps, spikes } }), label: `lif ${nIn}→${neurons}${recurrent === undefined ? '' : ' recurrent'}, ${batch}×${steps} steps` }
}

function encryption (r: Random): { payload: Uint8Array, label: string } {
  const n = int(r, 1, 8) * 512
  const key = bytes(r, 32); const iv = bytes(r, 12); const data = bytes(r, n)
  const payload = r() < 0.5
    ? encodeEncryptionPayload({ op: 'encrypt', key, iv, data })
    : encodeEncryptionPayload({ op: 'encrypt', key, iv, data, aad: bytes(r, int(r, 16, 64)) })
  return { payload, label: `encrypt ${kib(n)}` }
}

function compression (r: Random): { payload: Uint8Array, label: string } {
  const bits = pick(r, QUANTIZE_BITS)
  const count = int(r, 8, 32); const dim = pick(r, [32, 48, 64, 96, 128])
  const vectors = clustered(r, count, dim, centres(r, 4, dim), 0.3)
  const perVector = r() < 0.75
  const name = bits === 1 ? 'binary' : `int${bits}`
  if (r() < 0.7) return { payload: encodeQuantizePayload({ bits, dim, vectors, perVector }), label: `quantize ${count}×${dim} to ${name}` }
  // The inverse task: decode codes made by the kernel's own quantizer.
  const q = quantize({ bits, dim, vectors, perVector })
  return { payload: encodeDequantizePayload(q), label: `dequantize ${count}×${dim} from ${name}` }
}

// A tiny WebAssembly assembler: just enough for one module (WebAssembly Core Specification 2.0, §5).
function uleb (n: number): number[] { const out: number[] = []; do { let b = n & 0x7f; n >>>= 7; if (n !== 0) b |= 0x80; out.push(b) } while (n !== 0); return out }
function sleb32 (n: number): number[] {
  const out: number[] = []
  for (;;) { const b = n & 0x7f; n >>= 7; if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return out } out.push(b | 0x80) }
}
function section (id: number, body: number[]): number[] { return [id, ...uleb(body.length), ...body] }
function name (s: string): number[] { return [s.length, ...[...s].map(c => c.charCodeAt(0))] }

let fnvModule: Uint8Array | undefined

/**
 * A custom_wasm module (the kernel's ABI v1) that returns the 32-bit FNV-1a hash of its input as 4
 * little-endian bytes: a loop of one load, xor and multiply per input byte (FNV-1a, Fowler, Noll,
 * Vo: offset basis 0x811c9dc5, prime 0x01000193). 1 page of memory (max 16), `alloc` always
 * answers 1024, the hash is written at 0. Returns a fresh copy.
 *
 * @example
 * const payload = encodeCustomWasmPayload({ module: fnv1aWasmModule(), input: utf8('hi'), fuel: 100_000 })
 */
export function fnv1aWasmModule (): Uint8Array {
  if (fnvModule === undefined) {
    const I32 = 0x7f; const I64 = 0x7e; const VOID = 0x40
    // run(ptr = local 0, len = local 1), locals: 2 i, 3 h
    const run = [
      0x01, 0x02, I32, // 2 locals of i32
      0x41, ...sleb32(0x811c9dc5 | 0), 0x21, 3, // h = offset basis
      0x02, VOID, 0x03, VOID, // block, loop
      0x20, 2, 0x20, 1, 0x4f, 0x0d, 1, // if i >= len (unsigned) break
      0x20, 3, 0x20, 0, 0x20, 2, 0x6a, 0x2d, 0, 0, 0x73, // h ^ mem[ptr + i]
      0x41, ...sleb32(0x01000193), 0x6c, 0x21, 3, // h = (h ^ byte) * prime
      0x20, 2, 0x41, 1, 0x6a, 0x21, 2, // i++
      0x0c, 0, 0x0b, 0x0b, // br loop; end loop; end block
      0x41, 0, 0x20, 3, 0x36, 2, 0, // mem[0..4] = h
      0x42, 4, // return (0 << 32) | 4
      0x0b
    ]
    const alloc = [0x00, 0x41, ...sleb32(1024), 0x0b]
    fnvModule = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      ...section(1, [2, 0x60, 1, I32, 1, I32, 0x60, 2, I32, I32, 1, I64]), // types: (i32)→i32, (i32 i32)→i64
      ...section(3, [2, 0, 1]), // alloc: type 0, run: type 1
      ...section(5, [1, 0x01, 1, 16]), // one memory, 1..16 pages
      ...section(7, [3, ...name('memory'), 0x02, 0, ...name('alloc'), 0x00, 0, ...name('run'), 0x00, 1]),
      ...section(10, [2, ...uleb(alloc.length), ...alloc, ...uleb(run.length), ...run])
    ])
  }
  return fnvModule.slice()
}

function customWasm (r: Random): { payload: Uint8Array, label: string } {
  const n = int(r, 1, 8) * 512
  // Budget: well above the loop's cost (measured: 19 fuel per byte, plus a few for the calls), so
  // an honest run never runs out; escrow is priced by it, at 1 credit per 1e9 fuel.
  const fuel = 64 * n + 10_000
  return { payload: encodeCustomWasmPayload({ module: fnv1aWasmModule(), input: bytes(r, n), fuel }), label: `wasm fnv1a over ${kib(n)}` }
}

type Builder = (r: Random) => { payload: Uint8Array, label: string }

const BUILDERS: Partial<Record<TaskType, Builder>> = {
  vector_search: vectorSearch,
  vector_insert: vectorInsert,
  embedding,
  semantic_match: semanticMatch,
  neural_inference: neural,
  encryption,
  compression,
  custom_wasm: customWasm
}

/**
 * The types {@link mixedWorkload} draws from by default: every type that has both a kernel in
 * KERNELS and a builder here, in the price table's order (federated_round has no kernel).
 * @example WORKLOAD_TYPES.includes('custom_wasm') // true
 */
export const WORKLOAD_TYPES: readonly TaskType[] = Object.freeze(TASK_TYPES.filter(t => KERNELS[t] !== undefined && BUILDERS[t] !== undefined))

/** A 32-bit hash of (seed, stream, index) (murmur3's finalizer), so each task has its own stream. */
function subSeed (seed: number, stream: number, index: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35) ^ Math.floor(seed / 2 ** 32)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b); h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

function checkOptions (options: WorkloadOptions): readonly TaskType[] {
  const { seed, count, types } = options ?? {}
  if (!Number.isSafeInteger(seed)) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `workload seed must be a safe integer, got ${String(seed)}`)
  if (!Number.isSafeInteger(count) || count < 0 || count > WORKLOAD_MAX_COUNT) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `workload count must be an integer in 0..${WORKLOAD_MAX_COUNT}, got ${String(count)}`)
  if (types === undefined) return WORKLOAD_TYPES
  if (!Array.isArray(types) || types.length === 0) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', 'workload types must be a non-empty array')
  for (const t of types) {
    if (!(WORKLOAD_TYPES as readonly unknown[]).includes(t)) throw new KernelError('ERR_KERNEL_UNKNOWN_TYPE', `no kernel (or no workload builder) for task type '${String(t)}'`)
  }
  return [...new Set(types)] // a repeated type would skew the mix
}

/**
 * A seeded mixed workload: `count` tasks in rounds that each hold every type of `types` once, in
 * a seeded order. Same options, same bytes. Throws `KernelError` ERR_KERNEL_BAD_PARAMETER for a
 * bad seed, count or empty types, ERR_KERNEL_UNKNOWN_TYPE for a type without a kernel.
 *
 * @example
 * for (const task of mixedWorkload({ seed: 42, count: 200 })) await submit(task.type, task.payload)
 */
export function mixedWorkload (options: WorkloadOptions): WorkloadTask[] {
  const types = checkOptions(options)
  const { seed, count } = options
  const tasks: WorkloadTask[] = []
  let round: TaskType[] = []
  for (let i = 0; i < count; i++) {
    const slot = i % types.length
    if (slot === 0) {
      // Fisher–Yates over the types with the round's own generator.
      const r = seededRandom(subSeed(seed, 0, i / types.length))
      round = [...types]
      for (let j = round.length - 1; j > 0; j--) {
        const k = Math.floor(r() * (j + 1))
        const t = round[j] as TaskType; round[j] = round[k] as TaskType; round[k] = t
      }
    }
    const type = round[slot] as TaskType
    const built = (BUILDERS[type] as Builder)(seededRandom(subSeed(seed, 1, i)))
    tasks.push({ type, payload: built.payload, label: built.label })
  }
  return tasks
}

/**
 * The task's output as this node's own kernel computes it: the reference the demo compares an
 * accepted result with (through the kernel's `agree`) to count wrong answers that got through.
 *
 * @example
 * const wrong = !KERNELS[task.type]!.agree(accepted, await expectedOutput(task))
 */
export async function expectedOutput (task: WorkloadTask, options?: KernelRunOptions & { kernels?: Partial<Record<TaskType, Kernel>> }): Promise<Uint8Array> {
  const kernel = kernelFor(task.type, options?.kernels ?? KERNELS)
  return await kernel.run(task.payload, options?.signal === undefined ? undefined : { signal: options.signal })
}

/**
 * How many tasks of each type a workload holds (types absent from it are left out), in the price
 * table's order.
 *
 * @example
 * describeWorkload(mixedWorkload({ seed: 1, count: 16 })) // { vector_search: 2, vector_insert: 2, ... }
 */
export function describeWorkload (tasks: readonly WorkloadTask[]): Partial<Record<TaskType, number>> {
  const counts = new Map<TaskType, number>()
  for (const t of tasks) counts.set(t.type, (counts.get(t.type) ?? 0) + 1)
  const out: Partial<Record<TaskType, number>> = {}
  for (const type of TASK_TYPES) { const n = counts.get(type); if (n !== undefined) out[type] = n }
  return out
}
