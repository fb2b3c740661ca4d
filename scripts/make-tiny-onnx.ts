/**
 * Make the project's own tiny ONNX sentence-embedding model, so the ONNX loader is tested against a
 * real onnxruntime session without downloading anything. It writes, into
 * test/fixtures/tiny-embedder/ (or the directory given as the first argument):
 *
 * - `model.onnx`: a BERT-shaped graph with inputs `input_ids`, `attention_mask`, `token_type_ids`
 *   (int64, [batch, sequence]) and two outputs:
 *     `last_hidden_state` [batch, sequence, 16] = tanh((word[ids] + type[type_ids]) · W + b)
 *     `sentence_embedding` [batch, 16] = masked mean of `last_hidden_state` over the sequence
 *   (word: [vocab × 8], type: [2 × 8], W: [8 × 16], b: [16]; seeded, dyadic weights so a plain
 *   TypeScript reference gets the same numbers);
 * - `vocab.txt`: a few hundred WordPiece tokens (specials, ASCII punctuation, digits, letters and
 *   their `##` forms, common words and suffixes);
 * - `embedder.json`: the model package's config (see src/adapters/onnx/model-package.ts).
 *
 * The ONNX file is protobuf, written here by hand (onnx.proto3 field numbers, ONNX IR version 8,
 * opset 17): the format is small and stable, and the only npm package for it (onnx-proto) is
 * generated code for an old IR that would add protobufjs for ~100 lines of encoder.
 *
 * `node scripts/make-tiny-onnx.ts [dir]`. Deterministic: the same bytes every run (a test checks the
 * committed fixture against a fresh build).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join, resolve } from 'node:path'
import { seededRandom } from '../src/runtime/memory-network.ts'

// ---------------------------------------------------------------------------------------------
// Protobuf wire format (https://protobuf.dev/programming-guides/encoding/).

const enc = new TextEncoder()

/** A growable protobuf message writer. @example new ProtoWriter().int(1, 8).string(2, 'x').finish() */
export class ProtoWriter {
  readonly #parts: number[] = []

  #varint (n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint ${n}`)
    while (n >= 0x80) { this.#parts.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80) }
    this.#parts.push(n)
  }

  #key (field: number, wire: number): void { this.#varint(field * 8 + wire) }

  /** A varint field (int32, int64, enum; non-negative here). */
  int (field: number, value: number): this { this.#key(field, 0); this.#varint(value); return this }
  /** A length-delimited field: bytes, a string, or an embedded message. */
  bytes (field: number, value: Uint8Array): this {
    this.#key(field, 2); this.#varint(value.length)
    for (const b of value) this.#parts.push(b)
    return this
  }

  string (field: number, value: string): this { return this.bytes(field, enc.encode(value)) }
  message (field: number, value: ProtoWriter): this { return this.bytes(field, value.finish()) }
  finish (): Uint8Array { return Uint8Array.from(this.#parts) }
}

// ---------------------------------------------------------------------------------------------
// ONNX messages (onnx/onnx.proto3).

/** TensorProto.DataType FLOAT. @example valueInfo('y', ONNX_FLOAT, ['n', 16]) */
export const ONNX_FLOAT = 1
/** TensorProto.DataType INT64. @example valueInfo('input_ids', ONNX_INT64, ['batch', 'sequence']) */
export const ONNX_INT64 = 7

/** An initializer tensor: float32 or int64 data, little-endian raw_data. @example tensor('bias', [2], Float32Array.of(0, 1)) */
export function tensor (name: string, dims: readonly number[], data: Float32Array | BigInt64Array): ProtoWriter {
  const w = new ProtoWriter()
  for (const d of dims) w.int(1, d) // dims
  w.int(2, data instanceof Float32Array ? ONNX_FLOAT : ONNX_INT64) // data_type
  w.string(8, name) // name
  const raw = new Uint8Array(data.byteLength)
  const view = new DataView(raw.buffer)
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * 4, data[i] as number, true)
    else view.setBigInt64(i * 8, data[i] as bigint, true)
  }
  return w.bytes(9, raw) // raw_data
}

/** A graph input or output: a tensor type with named (symbolic) or fixed dimensions. @example valueInfo('x', ONNX_FLOAT, ['batch', 8]) */
export function valueInfo (name: string, elemType: number, dims: ReadonlyArray<string | number>): ProtoWriter {
  const shape = new ProtoWriter()
  for (const d of dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d))
  const tensorType = new ProtoWriter().int(1, elemType).message(2, shape)
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType))
}

/** A graph node; `ints` are INT attributes (AttributeProto.type = 2). @example node('Cast', ['mask'], ['mask_f'], { to: ONNX_FLOAT }) */
export function node (opType: string, inputs: readonly string[], outputs: readonly string[], ints: Record<string, number> = {}): ProtoWriter {
  const w = new ProtoWriter()
  for (const i of inputs) w.string(1, i)
  for (const o of outputs) w.string(2, o)
  w.string(3, `${opType}_${outputs[0] ?? ''}`)
  w.string(4, opType)
  for (const [name, value] of Object.entries(ints)) w.message(5, new ProtoWriter().string(1, name).int(3, value).int(20, 2))
  return w
}

/** A whole model: IR version 8, default-domain opset 17. @example model({ name: 'g', nodes: [node('Identity', ['x'], ['y'])], initializers: [], inputs: [valueInfo('x', ONNX_FLOAT, [1])], outputs: [valueInfo('y', ONNX_FLOAT, [1])] }) */
export function model (parts: { name: string, nodes: ProtoWriter[], initializers: ProtoWriter[], inputs: ProtoWriter[], outputs: ProtoWriter[] }): Uint8Array {
  const graph = new ProtoWriter()
  for (const n of parts.nodes) graph.message(1, n)
  graph.string(2, parts.name)
  for (const t of parts.initializers) graph.message(5, t)
  for (const i of parts.inputs) graph.message(11, i)
  for (const o of parts.outputs) graph.message(12, o)
  return new ProtoWriter()
    .int(1, 8) // ir_version
    .string(2, 'edge-net scripts/make-tiny-onnx.ts') // producer_name
    .string(3, '1') // producer_version
    .message(7, graph)
    .message(8, new ProtoWriter().int(2, 17)) // opset_import { domain: '', version: 17 }
    .finish()
}

// ---------------------------------------------------------------------------------------------
// The tiny embedder.

const WORDS = `the a an of to and in on for with from by is are be as at or not this that it
agent agents task tasks text texts image images code data model models search vector vectors
translate translation translator english french german spanish summarize summary summaries
write writer review reviews python javascript typescript rust sql database query queries
classify classification sentiment label labels detect detection object objects speech audio
music video chart charts plot math solve solver equation legal contract document documents
email emails schedule calendar meeting weather forecast price prices stock market finance
medical health doctor recipe cook food travel flight hotel book books news article articles
answer question questions chat help support customer sales web page pages scrape crawl
compress encrypt key keys network peer peers compute credit credits node nodes fast small
large good best new old red green blue one two three user users file files report reports
generate generation create build test tests bug bugs fix fixes sort list lists map maps
ing ed er es ly tion`.split(/\s+/).filter(w => w !== '')

const SUFFIXES = ['##s', '##es', '##ed', '##ing', '##er', '##ers', '##ly', '##ion', '##tion', '##ation', '##ize', '##ise', '##al', '##ment']

/** The tiny vocabulary: specials, punctuation, digits, letters, `##` letters and digits, words, suffixes. @example tinyVocab()[0] === '[PAD]' */
export function tinyVocab (): string[] {
  const out = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
  for (let c = 33; c <= 126; c++) {
    const ch = String.fromCharCode(c)
    if (!/[A-Za-z0-9]/.test(ch)) out.push(ch)
  }
  for (const ch of '0123456789abcdefghijklmnopqrstuvwxyz') out.push(ch)
  for (const ch of '0123456789abcdefghijklmnopqrstuvwxyz') out.push(`##${ch}`)
  for (const w of [...WORDS, ...SUFFIXES]) if (!out.includes(w)) out.push(w)
  return out
}

/** mulberry32 as 32-bit integers: the runtime's seeded PRNG scaled back up (exact: it divides by 2^32). */
function mulberry32 (seed: number): () => number {
  const next = seededRandom(seed)
  return () => next() * 4294967296
}

/** The tiny model's weights and files. @example const { word, dense } = makeTinyEmbedder() */
export interface TinyEmbedder {
  readonly vocab: string[]
  readonly hidden: number
  readonly dim: number
  /** [vocab × hidden], [2 × hidden], [hidden × dim], [dim], row-major. */
  readonly word: Float32Array
  readonly type: Float32Array
  readonly dense: Float32Array
  readonly bias: Float32Array
  readonly modelBytes: Uint8Array
  readonly vocabText: string
  readonly configText: string
}

/** The tiny model's package config (`embedder.json`). @example TINY_CONFIG.dim === 16 */
export const TINY_CONFIG = { name: 'tiny-embedder', version: '1', dim: 16, maxTokens: 32, pooling: 'mean', output: 'last_hidden_state', lowercase: true } as const

/**
 * Build the tiny embedder from a seed. Weights are k/1024 or k/4096 for small integers k: exact in
 * float32, so the reference and onnxruntime start from identical numbers.
 *
 * @example const tiny = makeTinyEmbedder(); tiny.modelBytes.length // ~12 KB
 */
export function makeTinyEmbedder (seed = 20240601, options: { tokenTypes?: boolean } = {}): TinyEmbedder {
  const tokenTypes = options.tokenTypes ?? true
  const vocab = tinyVocab()
  const hidden = 8
  const dim = TINY_CONFIG.dim
  const rand = mulberry32(seed)
  const fill = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => ((rand() % 2001) - 1000) / scale)
  const word = fill(vocab.length * hidden, 1024)
  const type = fill(2 * hidden, 4096)
  const dense = fill(hidden * dim, 4096)
  const bias = fill(dim, 4096)
  const ids = ['batch', 'sequence']
  const nodes = [
    node('Gather', ['word_embeddings', 'input_ids'], ['word_emb']),
    ...(tokenTypes
      ? [node('Gather', ['type_embeddings', 'token_type_ids'], ['type_emb']), node('Add', ['word_emb', 'type_emb'], ['emb'])]
      : [node('Identity', ['word_emb'], ['emb'])]),
    node('MatMul', ['emb', 'dense_weight'], ['proj']),
    node('Add', ['proj', 'dense_bias'], ['proj_b']),
    node('Tanh', ['proj_b'], ['last_hidden_state']),
    node('Cast', ['attention_mask'], ['mask_f'], { to: ONNX_FLOAT }),
    node('Unsqueeze', ['mask_f', 'axis_2'], ['mask_3']),
    node('Mul', ['last_hidden_state', 'mask_3'], ['masked']),
    node('ReduceSum', ['masked', 'axis_1'], ['summed'], { keepdims: 0 }),
    node('ReduceSum', ['mask_3', 'axis_1'], ['count'], { keepdims: 0 }),
    node('Max', ['count', 'eps'], ['count_c']),
    node('Div', ['summed', 'count_c'], ['sentence_embedding'])
  ]
  const initializers = [
    tensor('word_embeddings', [vocab.length, hidden], word),
    ...(tokenTypes ? [tensor('type_embeddings', [2, hidden], type)] : []),
    tensor('dense_weight', [hidden, dim], dense),
    tensor('dense_bias', [dim], bias),
    tensor('axis_1', [1], BigInt64Array.of(1n)),
    tensor('axis_2', [1], BigInt64Array.of(2n)),
    tensor('eps', [], Float32Array.of(1e-9))
  ]
  const inputs = [
    valueInfo('input_ids', ONNX_INT64, ids),
    valueInfo('attention_mask', ONNX_INT64, ids),
    ...(tokenTypes ? [valueInfo('token_type_ids', ONNX_INT64, ids)] : [])
  ]
  const outputs = [
    valueInfo('last_hidden_state', ONNX_FLOAT, [...ids, dim]),
    valueInfo('sentence_embedding', ONNX_FLOAT, ['batch', dim])
  ]
  const modelBytes = model({ name: 'tiny_embedder', nodes, initializers, inputs, outputs })
  return {
    vocab,
    hidden,
    dim,
    word,
    type: tokenTypes ? type : new Float32Array(2 * hidden),
    dense,
    bias,
    modelBytes,
    vocabText: vocab.join('\n') + '\n',
    configText: JSON.stringify(TINY_CONFIG, null, 2) + '\n'
  }
}

/** Write the tiny model package into `dir`. @example await writeTinyEmbedder('test/fixtures/tiny-embedder') */
export async function writeTinyEmbedder (dir: string): Promise<void> {
  const tiny = makeTinyEmbedder()
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'model.onnx'), tiny.modelBytes)
  await writeFile(join(dir, 'vocab.txt'), tiny.vocabText)
  await writeFile(join(dir, 'embedder.json'), tiny.configText)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? join(fileURLToPath(new URL('..', import.meta.url)), 'test', 'fixtures', 'tiny-embedder')
  await writeTinyEmbedder(dir)
  console.log(`wrote ${dir}/{model.onnx,vocab.txt,embedder.json}`)
}
