/**
 * Embedders: text → fixed-length float32 vector. The `embedding` and `semantic_match` kernels take a
 * registry of them, keyed by id, and a task names the id it wants, so every redundant worker of a
 * task runs the same model.
 *
 * The default, {@link HashedNgramEmbedder}, ships with the project and is a feature-hashing
 * bag of words and character trigrams (Weinberger et al., "Feature Hashing for Large Scale
 * Multitask Learning", ICML 2009; the trigrams as in fastText's subword units, Bojanowski et al.
 * 2017). Be clear about what it is: it measures LEXICAL overlap (shared words and word pieces),
 * not meaning. "car" and "automobile" score near zero; "translate English" and "translation from
 * English" score high. A node that wants semantic similarity loads a real sentence-embedding model
 * through the ONNX adapter (src/adapters/onnx/) and registers it beside the default.
 */
import { KernelError } from './errors.ts'

/** Options of one {@link Embedder.embed} call. @example await embedder.embed(texts, { signal }) */
export interface EmbedOptions {
  readonly signal?: AbortSignal
}

/**
 * Turns texts into vectors.
 *
 * Contract: `embed` returns one `Float32Array` of length `dim` per text, in order, each of unit
 * L2 norm (or all zeros for a text with nothing to embed), with only finite values. `id` names the
 * model AND its version (a different model or different weights must have a different id), since
 * it travels in task payloads and redundant workers must compute the same function.
 *
 * @example
 * const e: Embedder = DEFAULT_EMBEDDER
 * const [v] = await e.embed(['translate English to French'])
 * v.length === e.dim // true
 */
export interface Embedder {
  readonly id: string
  readonly dim: number
  embed (texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>
  /** Free native resources (an ONNX session); the embedder must not be used afterwards. */
  dispose?: () => Promise<void>
}

/** Embedders by id; build one with {@link embedderRegistry}. @example DEFAULT_EMBEDDERS.get(DEFAULT_EMBEDDER.id) */
export type EmbedderRegistry = ReadonlyMap<string, Embedder>

/** Largest vector an embedder in a registry may return (4096 floats = 16 KiB per text). @example EMBEDDER_MAX_DIM === 4096 */
export const EMBEDDER_MAX_DIM = 4096

/** Longest embedder id (printable ASCII). @example EMBEDDER_MAX_ID_LENGTH === 128 */
export const EMBEDDER_MAX_ID_LENGTH = 128

const ID_PATTERN = /^[\x21-\x7E]+$/

/**
 * Whether a string is a well-formed embedder id: 1 to 128 printable ASCII characters, no spaces.
 *
 * @example isEmbedderId('hashed-ngram-v1-512') // true
 */
export function isEmbedderId (id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= EMBEDDER_MAX_ID_LENGTH && ID_PATTERN.test(id)
}

/**
 * A registry of embedders, refusing a malformed id, a dimension outside 1..{@link EMBEDDER_MAX_DIM}
 * or two embedders with the same id (`ERR_KERNEL_BAD_PARAMETER`).
 *
 * @example
 * const registry = embedderRegistry([DEFAULT_EMBEDDER, await loadOnnxEmbedder({ modelDir })])
 */
export function embedderRegistry (embedders: Iterable<Embedder>): EmbedderRegistry {
  const out = new Map<string, Embedder>()
  for (const e of embedders) {
    if (!isEmbedderId(e.id)) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `embedder id ${JSON.stringify(e.id)} is not 1-${EMBEDDER_MAX_ID_LENGTH} printable ASCII characters`)
    if (!Number.isSafeInteger(e.dim) || e.dim < 1 || e.dim > EMBEDDER_MAX_DIM) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `embedder ${e.id}: dim ${e.dim} is not in 1..${EMBEDDER_MAX_DIM}`)
    if (out.has(e.id)) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `two embedders share the id ${e.id}`)
    out.set(e.id, e)
  }
  return out
}

/**
 * The embedder a payload names, or `ERR_KERNEL_BAD_PARAMETER` if this node has none by that id.
 *
 * @example embedderFor(DEFAULT_EMBEDDERS, 'hashed-ngram-v1-512').dim // 512
 */
export function embedderFor (registry: EmbedderRegistry, id: string): Embedder {
  const e = registry.get(id)
  if (e === undefined) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `no embedder '${id}' on this node (have: ${[...registry.keys()].join(', ') || 'none'})`)
  return e
}

/**
 * Run an embedder and check it kept its contract (count, length, finite values), so a broken model
 * fails the task instead of shipping garbage: `ERR_KERNEL_DIMENSION_MISMATCH` or
 * `ERR_KERNEL_NON_FINITE`.
 *
 * @example const vectors = await embedChecked(DEFAULT_EMBEDDER, ['a', 'b'])
 */
export async function embedChecked (embedder: Embedder, texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
  options.signal?.throwIfAborted()
  const vectors = await embedder.embed(texts, options)
  if (!Array.isArray(vectors) || vectors.length !== texts.length) {
    throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `embedder ${embedder.id} returned ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${texts.length} texts`)
  }
  vectors.forEach((v, i) => {
    if (!(v instanceof Float32Array) || v.length !== embedder.dim) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `embedder ${embedder.id}: vector ${i} is not a Float32Array of ${embedder.dim}`)
    for (let j = 0; j < v.length; j++) {
      if (!Number.isFinite(v[j] as number)) throw new KernelError('ERR_KERNEL_NON_FINITE', `embedder ${embedder.id}: vector ${i}[${j}] is ${String(v[j])}`)
    }
  })
  return vectors
}

// ---------------------------------------------------------------------------------------------
// The default embedder.

/** Weight of a whole word in {@link HashedNgramEmbedder}. @example HASHED_WORD_WEIGHT === 1 */
export const HASHED_WORD_WEIGHT = 1
/** Weight of one character trigram in {@link HashedNgramEmbedder}. @example HASHED_TRIGRAM_WEIGHT === 0.5 */
export const HASHED_TRIGRAM_WEIGHT = 0.5

// A word: a run of letters, marks and digits (Unicode), after NFKC and lowercasing.
const WORD = /[\p{L}\p{M}\p{N}]+/gu

/**
 * 32-bit FNV-1a (Fowler–Noll–Vo; draft-eastlake-fnv) over the UTF-8 bytes of `kind` + `text`,
 * finished with MurmurHash3's fmix32 avalanche so low and high bits are both well mixed. Integer
 * operations only (`Math.imul` is exact), so it is bit-identical on every engine.
 *
 * @example stableHash32('w', 'hello') === stableHash32('w', 'hello') // true
 */
export function stableHash32 (kind: string, text: string): number {
  const cps = Array.from(kind + text, ch => ch.codePointAt(0) as number)
  return hashCodePoints(cps, 0, cps.length, 0x811C9DC5)
}

const FNV_OFFSET = 0x811C9DC5
const FNV_PRIME = 0x01000193

// FNV-1a steps for one code point's UTF-8 bytes (RFC 3629 §3), without building a byte array.
function fnvCodePoint (h: number, cp: number): number {
  if (cp < 0x80) return Math.imul(h ^ cp, FNV_PRIME)
  if (cp < 0x800) {
    h = Math.imul(h ^ (0xC0 | (cp >> 6)), FNV_PRIME)
  } else {
    if (cp < 0x10000) {
      h = Math.imul(h ^ (0xE0 | (cp >> 12)), FNV_PRIME)
    } else {
      h = Math.imul(h ^ (0xF0 | (cp >> 18)), FNV_PRIME)
      h = Math.imul(h ^ (0x80 | ((cp >> 12) & 63)), FNV_PRIME)
    }
    h = Math.imul(h ^ (0x80 | ((cp >> 6) & 63)), FNV_PRIME)
  }
  return Math.imul(h ^ (0x80 | (cp & 63)), FNV_PRIME)
}

// FNV-1a over cps[start, end) continuing from state `h`, then fmix32 (MurmurHash3).
function hashCodePoints (cps: readonly number[], start: number, end: number, h: number): number {
  for (let i = start; i < end; i++) h = fnvCodePoint(h, cps[i] as number)
  h ^= h >>> 16
  h = Math.imul(h, 0x85EBCA6B)
  h ^= h >>> 13
  h = Math.imul(h, 0xC2B2AE35)
  h ^= h >>> 16
  return h >>> 0
}

// FNV-1a states after the kind prefixes 'w' (0x77) and 'c' (0x63).
const AFTER_W = Math.imul(FNV_OFFSET ^ 0x77, FNV_PRIME)
const AFTER_C = Math.imul(FNV_OFFSET ^ 0x63, FNV_PRIME)

/** Options of {@link HashedNgramEmbedder}. @example new HashedNgramEmbedder({ dim: 256 }) */
export interface HashedNgramOptions {
  /** Vector length, a power of two from 16 to 4096. Default 512. */
  readonly dim?: number
}

/**
 * The default embedder: signed feature hashing of words and character trigrams, L2-normalised.
 *
 * Algorithm (version 1; any change to it must change the id):
 * 1. `text.normalize('NFKC').toLowerCase()`; words = maximal runs of Unicode letters, marks and
 *    digits (everything else separates words).
 * 2. Features: each word (weight {@link HASHED_WORD_WEIGHT}, hashed with kind `'w'`) and each
 *    code-point trigram of `'<' + word + '>'` (weight {@link HASHED_TRIGRAM_WEIGHT}, kind `'c'`).
 * 3. `h = stableHash32(kind, feature)`; the feature adds `±weight` to bucket `h mod dim`, with
 *    sign `-` when bit 31 of `h` is set (the sign halves the bias collisions add).
 * 4. Divide by the L2 norm (a text with no word stays all zeros); round to float32.
 *
 * Only +, ×, ÷ and √ on float64 (all correctly rounded by IEEE 754) and integer hashing, in a fixed
 * order, so the output is bit-identical on every machine and engine: redundant workers agree
 * exactly. The one platform dependence is the Unicode version of `normalize` / `toLowerCase`,
 * which matters only for characters new in a recent Unicode release.
 *
 * What it is good for: ranking by shared vocabulary and word forms (translate / translation share
 * trigrams). What it is not: semantic. Synonyms without shared letters do not match; word order
 * is ignored. Hash collisions add noise of about ±1/√dim to a cosine.
 *
 * @example
 * const e = new HashedNgramEmbedder()
 * const [a, b] = await e.embed(['summarise legal documents', 'legal document summary'])
 */
export class HashedNgramEmbedder implements Embedder {
  readonly id: string
  readonly dim: number

  constructor (options: HashedNgramOptions = {}) {
    const dim = options.dim ?? 512
    if (!Number.isSafeInteger(dim) || dim < 16 || dim > EMBEDDER_MAX_DIM || (dim & (dim - 1)) !== 0) {
      throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `hashed embedder dim must be a power of two in 16..${EMBEDDER_MAX_DIM}, got ${dim}`)
    }
    this.dim = dim
    this.id = `hashed-ngram-v1-${dim}`
  }

  /** Embed one text synchronously (the same function `embed` applies). @example e.embedOne('hello').length === e.dim */
  embedOne (text: string): Float32Array {
    const acc = new Float64Array(this.dim)
    const mask = this.dim - 1
    const add = (h: number, weight: number): void => {
      acc[h & mask] = (acc[h & mask] as number) + ((h & 0x80000000) !== 0 ? -weight : weight)
    }
    const LT = 0x3C // '<'
    const GT = 0x3E // '>'
    for (const match of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
      // '<' word '>' as code points: the word is cps[1, n - 1).
      const cps = [LT]
      for (const ch of match[0]) cps.push(ch.codePointAt(0) as number)
      cps.push(GT)
      add(hashCodePoints(cps, 1, cps.length - 1, AFTER_W), HASHED_WORD_WEIGHT)
      for (let i = 0; i + 3 <= cps.length; i++) add(hashCodePoints(cps, i, i + 3, AFTER_C), HASHED_TRIGRAM_WEIGHT)
    }
    let sum = 0
    for (let i = 0; i < acc.length; i++) sum += (acc[i] as number) * (acc[i] as number)
    const out = new Float32Array(this.dim)
    if (sum === 0) return out
    const norm = Math.sqrt(sum)
    for (let i = 0; i < acc.length; i++) out[i] = (acc[i] as number) / norm
    return out
  }

  /** Embed texts (see the class doc). @example await e.embed(['a b', 'c']) */
  async embed (texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const out: Float32Array[] = []
    for (const text of texts) {
      options.signal?.throwIfAborted()
      if (typeof text !== 'string') throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', 'a text is not a string')
      out.push(this.embedOne(text))
    }
    return out
  }
}

/** The embedder every node has: `hashed-ngram-v1-512`. @example DEFAULT_EMBEDDER.id === 'hashed-ngram-v1-512' */
export const DEFAULT_EMBEDDER: Embedder = new HashedNgramEmbedder()

/** A registry holding only {@link DEFAULT_EMBEDDER}. @example DEFAULT_EMBEDDERS.size === 1 */
export const DEFAULT_EMBEDDERS: EmbedderRegistry = embedderRegistry([DEFAULT_EMBEDDER])

/**
 * Cosine similarity of two float32 vectors, computed in float64 in index order (so deterministic);
 * 0 when either is all zeros.
 *
 * @example cosine(new Float32Array([1, 0]), new Float32Array([1, 1])) // ≈ 0.7071
 */
export function cosine (a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `cosine of vectors of ${a.length} and ${b.length}`)
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number
    const y = b[i] as number
    dot += x * y
    na += x * x
    nb += y * y
  }
  if (na === 0 || nb === 0) return 0
  const c = dot / Math.sqrt(na * nb)
  return c > 1 ? 1 : c < -1 ? -1 : c
}
