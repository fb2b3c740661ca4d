/**
 * The `embedding` kernel: texts in, one float32 vector per text out, by the embedder the payload
 * names (src/core/kernels/embedder.ts has the interface and the default, a hashed n-gram embedder
 * that measures lexical overlap, not meaning).
 *
 * Payload (canonical CBOR map, exactly these keys):
 *   `{ model: text, texts: [text, ...] }`
 * Output:
 *   `{ dim: uint, vectors: bytes }`, `vectors` = `texts.length × dim` little-endian float32, row-major.
 *
 * Size: the number of texts (price unit 'text', economy/prices.ts).
 *
 * Limits ({@link EMBEDDING_LIMITS}): 1 to 1024 texts, each at most 8 KiB of UTF-8, the payload at
 * most 1 MiB (more texts → split the job: a task is also the unit of retry and verification). An
 * unknown model id is `ERR_KERNEL_BAD_PARAMETER` from `run()`: a worker without the model must not
 * guess. `size()` checks the payload but not that this node holds the model, since a submitter
 * prices tasks for models only its workers hold; a worker checks `registry.has(model)` (e.g. via
 * {@link decodeEmbeddingPayload}) before it claims a task.
 *
 * Agreement ({@link EMBEDDING_AGREE_COSINE}): same dim and count, and each pair of vectors has
 * cosine >= 0.9999 and norms within 1e-4 of each other (both zero also agrees). The default
 * embedder is bit-exact across machines, so honest workers agree exactly; ONNX runtimes may differ
 * in the last bits (different SIMD paths and summation orders), hence a tolerance rather than
 * a hash, as issue 3 §2 asks of float kernels.
 */
import { encodeCanonical, DEFAULT_MAX_BYTES } from '../codec/index.ts'
import { KernelError } from './errors.ts'
import { PayloadFields } from './fields.ts'
import { bytesToMatrix, floatsToBytes } from './floats.ts'
import type { Kernel, KernelRunOptions } from './types.ts'
import { DEFAULT_EMBEDDERS, EMBEDDER_MAX_DIM, embedChecked, embedderFor, isEmbedderId } from './embedder.ts'
import type { EmbedderRegistry } from './embedder.ts'

export { DEFAULT_EMBEDDER, DEFAULT_EMBEDDERS, EMBEDDER_MAX_DIM, HashedNgramEmbedder, cosine, embedChecked, embedderFor, embedderRegistry, isEmbedderId, stableHash32 } from './embedder.ts'
export type { Embedder, EmbedderRegistry, EmbedOptions, HashedNgramOptions } from './embedder.ts'

/** Limits of one `embedding` task. @example EMBEDDING_LIMITS.maxTexts === 1024 */
export const EMBEDDING_LIMITS = Object.freeze({
  maxTexts: 1024,
  maxTextBytes: 8192,
  maxPayloadBytes: DEFAULT_MAX_BYTES
})

/** Least cosine between two workers' vectors of one text for them to agree. @example EMBEDDING_AGREE_COSINE === 0.9999 */
export const EMBEDDING_AGREE_COSINE = 0.9999

/** Largest difference between two workers' vector norms for them to agree. @example EMBEDDING_AGREE_NORM === 1e-4 */
export const EMBEDDING_AGREE_NORM = 1e-4

/** What a client asks the `embedding` kernel. @example const input: EmbeddingInput = { model: DEFAULT_EMBEDDER.id, texts: ['hi'] } */
export interface EmbeddingInput {
  readonly model: string
  readonly texts: readonly string[]
}

/** What the `embedding` kernel returns. @example decodeEmbeddingOutput(out).vectors[0].length === decodeEmbeddingOutput(out).dim */
export interface EmbeddingOutput {
  readonly dim: number
  readonly vectors: Float32Array[]
}

const encoder = new TextEncoder()
// Unpaired UTF-16 surrogates cannot be encoded as UTF-8: they would silently turn into U+FFFD.
const LONE_SURROGATE = /\p{Cs}/u

/** A model id field: a text (`ERR_KERNEL_BAD_PAYLOAD`) that is a well-formed embedder id (`ERR_KERNEL_BAD_PARAMETER`). @example checkModelId('hashed-ngram-v1-512', 'embedding') */
export function checkModelId (value: unknown, what: string): string {
  if (typeof value !== 'string') throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', `${what}: model is not a text string`)
  if (!isEmbedderId(value)) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `${what}: model id ${JSON.stringify((value as string).slice(0, 64))} is malformed`)
  return value
}

/**
 * Check a list of texts: an array (`ERR_KERNEL_BAD_PAYLOAD`) of 1 (`ERR_KERNEL_BAD_PARAMETER`) to
 * `maxCount` (`ERR_KERNEL_PAYLOAD_TOO_LARGE`) strings, each at most `maxBytes` of UTF-8
 * (`ERR_KERNEL_PAYLOAD_TOO_LARGE`) and without unpaired surrogates. Shared by the text kernels.
 *
 * @example checkTexts(['a', 'b'], { maxCount: 10, maxBytes: 100 }, 'texts') // ['a', 'b']
 */
export function checkTexts (value: unknown, limits: { maxCount: number, maxBytes: number }, what: string): string[] {
  if (!Array.isArray(value)) throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', `${what} is not an array`)
  if (value.length === 0) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `${what} is empty`)
  if (value.length > limits.maxCount) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${what}: ${value.length} texts, more than ${limits.maxCount}`)
  value.forEach((t: unknown, i) => {
    if (typeof t !== 'string') throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', `${what}[${i}] is not a text string`)
    // A UTF-16 unit is at most 3 UTF-8 bytes: skip the encode when the text is clearly short.
    if (t.length * 3 > limits.maxBytes && encoder.encode(t).length > limits.maxBytes) {
      throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${what}[${i}] is longer than ${limits.maxBytes} UTF-8 bytes`)
    }
    if (LONE_SURROGATE.test(t)) throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', `${what}[${i}] holds an unpaired surrogate`)
  })
  return value as string[]
}

const PAYLOAD_KEYS = ['model', 'texts'] as const

function checkInput (model: unknown, texts: unknown): EmbeddingInput {
  return {
    model: checkModelId(model, 'embedding'),
    texts: checkTexts(texts, { maxCount: EMBEDDING_LIMITS.maxTexts, maxBytes: EMBEDDING_LIMITS.maxTextBytes }, 'embedding texts')
  }
}

/**
 * Build an `embedding` payload, with the checks the kernel applies (so a client learns of a bad
 * input before it pays for a task).
 *
 * @example
 * const payload = encodeEmbeddingPayload({ model: DEFAULT_EMBEDDER.id, texts: ['hello world'] })
 */
export function encodeEmbeddingPayload (input: EmbeddingInput): Uint8Array {
  const checked = checkInput(input?.model, input?.texts)
  const bytes = encodeCanonical({ model: checked.model, texts: [...checked.texts] })
  if (bytes.length > EMBEDDING_LIMITS.maxPayloadBytes) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `embedding payload would be ${bytes.length} bytes, more than ${EMBEDDING_LIMITS.maxPayloadBytes}`)
  return bytes
}

/**
 * Decode and check an `embedding` payload (shape and limits; whether this node has the model is
 * the kernel's question).
 *
 * @example decodeEmbeddingPayload(encodeEmbeddingPayload({ model: 'm', texts: ['a'] })).texts // ['a']
 */
export function decodeEmbeddingPayload (payload: Uint8Array): EmbeddingInput {
  const f = PayloadFields.decode(payload, { maxBytes: EMBEDDING_LIMITS.maxPayloadBytes, what: 'embedding payload' }).only(PAYLOAD_KEYS)
  return checkInput(f.value('model'), f.value('texts'))
}

/**
 * Encode an `embedding` output (what the kernel returns).
 *
 * @example encodeEmbeddingOutput({ dim: 2, vectors: [new Float32Array([1, 0])] })
 */
export function encodeEmbeddingOutput (output: EmbeddingOutput): Uint8Array {
  const { dim, vectors } = output
  const flat = new Float32Array(vectors.length * dim)
  vectors.forEach((v, i) => {
    if (v.length !== dim) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `vector ${i} has ${v.length} values, not ${dim}`)
    flat.set(v, i * dim)
  })
  return encodeCanonical({ dim, vectors: floatsToBytes(flat) })
}

/** Largest output the decoder accepts: the most texts at the largest dim, plus the map's bytes. */
const MAX_OUTPUT_BYTES = EMBEDDING_LIMITS.maxTexts * EMBEDDER_MAX_DIM * 4 + 64

/**
 * Decode an `embedding` output into one `Float32Array` per text. Throws `KernelError`
 * (`ERR_KERNEL_BAD_PAYLOAD`, `ERR_KERNEL_DIMENSION_MISMATCH`, `ERR_KERNEL_NON_FINITE`) on a
 * malformed output.
 *
 * @example const { dim, vectors } = decodeEmbeddingOutput(await EMBEDDING_KERNEL.run(payload))
 */
export function decodeEmbeddingOutput (bytes: Uint8Array): EmbeddingOutput {
  const f = PayloadFields.decode(bytes, { maxBytes: MAX_OUTPUT_BYTES, what: 'embedding output', rangeCode: 'ERR_KERNEL_BAD_PAYLOAD' }).only(['dim', 'vectors'])
  const dim = f.int('dim', { min: 1, max: EMBEDDER_MAX_DIM })
  const raw = f.bytes('vectors')
  const rows = raw.length / (4 * dim)
  if (!Number.isInteger(rows) || rows < 1) throw f.error(`${raw.length} bytes is not a whole number of ${dim}-vectors`, 'ERR_KERNEL_DIMENSION_MISMATCH')
  const flat = bytesToMatrix(raw, rows, dim, 'embedding output vectors')
  const vectors: Float32Array[] = []
  for (let r = 0; r < rows; r++) vectors.push(flat.slice(r * dim, (r + 1) * dim))
  return { dim, vectors }
}

function norm (v: Float32Array): number {
  let s = 0
  for (let i = 0; i < v.length; i++) s += (v[i] as number) * (v[i] as number)
  return Math.sqrt(s)
}

/**
 * Do two vectors count as the same embedding? Cosine >= {@link EMBEDDING_AGREE_COSINE} and norms
 * within {@link EMBEDDING_AGREE_NORM}; two zero vectors agree, a zero and a non-zero do not.
 *
 * @example vectorsAgree(v, v) // true
 */
export function vectorsAgree (a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false
  const na = norm(a)
  const nb = norm(b)
  if (na === 0 || nb === 0) return na === nb
  if (Math.abs(na - nb) > EMBEDDING_AGREE_NORM) return false
  let dot = 0
  for (let i = 0; i < a.length; i++) dot += (a[i] as number) * (b[i] as number)
  return dot / (na * nb) >= EMBEDDING_AGREE_COSINE
}

/**
 * The `embedding` kernel over a registry of embedders (the runtime passes the default plus any
 * ONNX model the operator installed).
 *
 * @example
 * const kernel = embeddingKernel(embedderRegistry([DEFAULT_EMBEDDER, onnx]))
 * const out = decodeEmbeddingOutput(await kernel.run(encodeEmbeddingPayload({ model: onnx.id, texts })))
 */
export function embeddingKernel (embedders: EmbedderRegistry): Kernel {
  return {
    type: 'embedding',
    // The model need not be on THIS node: a submitter prices a task for a model only workers hold.
    size (payload: Uint8Array): number {
      return decodeEmbeddingPayload(payload).texts.length
    },
    async run (payload: Uint8Array, options: KernelRunOptions = {}): Promise<Uint8Array> {
      const input = decodeEmbeddingPayload(payload)
      const embedder = embedderFor(embedders, input.model)
      const vectors = await embedChecked(embedder, input.texts, options.signal === undefined ? {} : { signal: options.signal })
      return encodeEmbeddingOutput({ dim: embedder.dim, vectors })
    },
    agree (a: Uint8Array, b: Uint8Array): boolean {
      try {
        const x = decodeEmbeddingOutput(a)
        const y = decodeEmbeddingOutput(b)
        if (x.dim !== y.dim || x.vectors.length !== y.vectors.length) return false
        return x.vectors.every((v, i) => vectorsAgree(v, y.vectors[i] as Float32Array))
      } catch {
        return false
      }
    }
  }
}

/** The `embedding` kernel with only the default embedder. @example EMBEDDING_KERNEL.type === 'embedding' */
export const EMBEDDING_KERNEL: Kernel = embeddingKernel(DEFAULT_EMBEDDERS)
