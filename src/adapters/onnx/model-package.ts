/**
 * An ONNX embedding-model package on disk: a directory an operator installs, holding
 *
 * - `model.onnx`: a BERT-style sentence encoder exported to ONNX (inputs `input_ids`,
 *   `attention_mask` and optionally `token_type_ids`, int64 [batch, sequence]; an output of token
 *   states [batch, sequence, dim] or of sentence vectors [batch, dim]), as Hugging Face Optimum or
 *   `torch.onnx.export` write for sentence-transformers models;
 * - `vocab.txt`: its WordPiece vocabulary, one token per line;
 * - `embedder.json`: how to use it, e.g.
 *   `{ "name": "all-MiniLM-L6-v2", "version": "1", "dim": 384, "maxTokens": 256, "pooling": "mean" }`
 *   with optional `"output"` (which model output to read; default the first) and `"lowercase"`
 *   (default true: an uncased model).
 *
 * The embedder id is `onnx/<name>@<version>/<16 hex digits>`, the digits the start of a SHA-256
 * over the three files, so two nodes that announce the same id run the same bytes: a worker whose
 * files differ in one weight has a different id and is never assigned the task.
 */
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { KernelError } from '../../core/kernels/errors.ts'
import { EMBEDDER_MAX_DIM, EMBEDDER_MAX_ID_LENGTH } from '../../core/kernels/embedder.ts'

/** How to pool token states into one vector per text. @example const p: OnnxPooling = 'mean' */
export type OnnxPooling = 'mean' | 'cls' | 'none'

/** The contents of `embedder.json`. @example const c: OnnxEmbedderConfig = { name: 'm', version: '1', dim: 384, maxTokens: 256, pooling: 'mean' } */
export interface OnnxEmbedderConfig {
  /** Model name: letters, digits, `._-`, at most 64 characters. */
  readonly name: string
  /** Model version, the same alphabet, at most 32 characters. */
  readonly version: string
  /** Length of the sentence vector. */
  readonly dim: number
  /** Most tokens per text including `[CLS]` and `[SEP]` (texts are truncated to fit). */
  readonly maxTokens: number
  /** `mean`: attention-masked mean of token states (sentence-transformers' default); `cls`: the first token's state; `none`: the output already is [batch, dim]. */
  readonly pooling: OnnxPooling
  /** The output to read; default the model's first output. */
  readonly output?: string
  /** Lowercase and strip accents before WordPiece (uncased models). Default true. */
  readonly lowercase?: boolean
}

/** A model package read into memory. @example const pkg = await readModelPackage({ modelDir }) */
export interface ModelPackage {
  readonly id: string
  readonly config: OnnxEmbedderConfig
  readonly modelBytes: Uint8Array
  readonly vocabText: string
}

/** Where a package's files are: a directory, or three explicit parts. @example const src: ModelSource = { modelDir: '/opt/models/minilm' } */
export type ModelSource =
  | { readonly modelDir: string }
  | { readonly modelPath: string, readonly vocabPath: string, readonly config: OnnxEmbedderConfig }

/** Largest `model.onnx` read (1 GiB); larger models need a streaming loader. @example MAX_MODEL_BYTES === 2 ** 30 */
export const MAX_MODEL_BYTES = 2 ** 30

/** Most tokens a config may ask for. @example MAX_TOKENS_LIMIT === 8192 */
export const MAX_TOKENS_LIMIT = 8192

const NAME = /^[A-Za-z0-9._-]{1,64}$/
const VERSION = /^[A-Za-z0-9._-]{1,32}$/
const CONFIG_KEYS = ['name', 'version', 'dim', 'maxTokens', 'pooling', 'output', 'lowercase']

function fail (message: string, cause?: unknown): KernelError {
  return new KernelError('ERR_KERNEL_MODEL_LOAD_FAILED', message, cause === undefined ? undefined : { cause })
}

/**
 * Check a parsed `embedder.json`, throwing `ERR_KERNEL_MODEL_LOAD_FAILED` with the field at fault.
 *
 * @example parseEmbedderConfig({ name: 'm', version: '1', dim: 8, maxTokens: 32, pooling: 'mean' })
 */
export function parseEmbedderConfig (value: unknown): OnnxEmbedderConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw fail('embedder config is not a JSON object')
  const v = value as Record<string, unknown>
  for (const k of Object.keys(v)) if (!CONFIG_KEYS.includes(k)) throw fail(`embedder config: unknown key '${k}'`)
  if (typeof v.name !== 'string' || !NAME.test(v.name)) throw fail('embedder config: name must be 1-64 of [A-Za-z0-9._-]')
  if (typeof v.version !== 'string' || !VERSION.test(v.version)) throw fail('embedder config: version must be 1-32 of [A-Za-z0-9._-]')
  if (typeof v.dim !== 'number' || !Number.isSafeInteger(v.dim) || v.dim < 1 || v.dim > EMBEDDER_MAX_DIM) throw fail(`embedder config: dim must be an integer in 1..${EMBEDDER_MAX_DIM}`)
  if (typeof v.maxTokens !== 'number' || !Number.isSafeInteger(v.maxTokens) || v.maxTokens < 2 || v.maxTokens > MAX_TOKENS_LIMIT) throw fail(`embedder config: maxTokens must be an integer in 2..${MAX_TOKENS_LIMIT}`)
  if (v.pooling !== 'mean' && v.pooling !== 'cls' && v.pooling !== 'none') throw fail("embedder config: pooling must be 'mean', 'cls' or 'none'")
  if (v.output !== undefined && (typeof v.output !== 'string' || v.output === '')) throw fail('embedder config: output must be a non-empty string')
  if (v.lowercase !== undefined && typeof v.lowercase !== 'boolean') throw fail('embedder config: lowercase must be a boolean')
  return {
    name: v.name,
    version: v.version,
    dim: v.dim,
    maxTokens: v.maxTokens,
    pooling: v.pooling,
    ...(v.output === undefined ? {} : { output: v.output as string }),
    ...(v.lowercase === undefined ? {} : { lowercase: v.lowercase as boolean })
  }
}

/**
 * The id of a package: `onnx/<name>@<version>/<first 8 bytes of SHA-256, hex>`, the hash over the
 * length-prefixed model bytes, vocabulary and config (keys in a fixed order), so any change to any
 * of them changes the id.
 *
 * @example modelPackageId(config, modelBytes, vocabText) // 'onnx/tiny-embedder@1/3f2a…'
 */
export function modelPackageId (config: OnnxEmbedderConfig, modelBytes: Uint8Array, vocabText: string): string {
  const h = createHash('sha256')
  const part = (bytes: Uint8Array): void => {
    const len = new Uint8Array(8)
    new DataView(len.buffer).setBigUint64(0, BigInt(bytes.length))
    h.update(len)
    h.update(bytes)
  }
  const canonical = JSON.stringify([config.name, config.version, config.dim, config.maxTokens, config.pooling, config.output ?? null, config.lowercase ?? true])
  part(new TextEncoder().encode(canonical))
  part(modelBytes)
  part(new TextEncoder().encode(vocabText))
  const id = `onnx/${config.name}@${config.version}/${h.digest('hex').slice(0, 16)}`
  if (id.length > EMBEDDER_MAX_ID_LENGTH) throw fail(`embedder id ${id} is too long`)
  return id
}

async function readBytes (path: string, what: string, maxBytes: number): Promise<Uint8Array> {
  try {
    const info = await stat(path)
    if (!info.isFile()) throw fail(`${what} ${path} is not a file`)
    if (info.size > maxBytes) throw fail(`${what} ${path} is ${info.size} bytes, more than ${maxBytes}`)
    const buf = await readFile(path)
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  } catch (err) {
    if (err instanceof KernelError) throw err
    throw fail(`cannot read ${what} ${path}: ${(err as Error).message}`, err)
  }
}

function utf8Text (bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (err) {
    throw fail(`${what} is not UTF-8`, err)
  }
}

/**
 * Read a model package (files only; nothing is run yet). Any missing, unreadable or invalid part
 * is `ERR_KERNEL_MODEL_LOAD_FAILED`.
 *
 * @example const pkg = await readModelPackage({ modelDir: 'test/fixtures/tiny-embedder' })
 */
export async function readModelPackage (source: ModelSource): Promise<ModelPackage> {
  let modelPath: string
  let vocabPath: string
  let config: OnnxEmbedderConfig
  if ('modelDir' in source) {
    if (typeof source.modelDir !== 'string' || source.modelDir === '') throw fail('modelDir must be a non-empty path')
    modelPath = join(source.modelDir, 'model.onnx')
    vocabPath = join(source.modelDir, 'vocab.txt')
    const configText = utf8Text(await readBytes(join(source.modelDir, 'embedder.json'), 'config', 1 << 16), 'embedder.json')
    let parsed: unknown
    try {
      parsed = JSON.parse(configText)
    } catch (err) {
      throw fail(`embedder.json is not JSON: ${(err as Error).message}`, err)
    }
    config = parseEmbedderConfig(parsed)
  } else {
    if (typeof source.modelPath !== 'string' || typeof source.vocabPath !== 'string') throw fail('modelPath and vocabPath must be paths')
    modelPath = source.modelPath
    vocabPath = source.vocabPath
    config = parseEmbedderConfig(source.config)
  }
  const modelBytes = await readBytes(modelPath, 'model', MAX_MODEL_BYTES)
  const vocabText = utf8Text(await readBytes(vocabPath, 'vocabulary', 64 << 20), 'vocab.txt')
  return { id: modelPackageId(config, modelBytes, vocabText), config, modelBytes, vocabText }
}
