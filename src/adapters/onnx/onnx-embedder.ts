/**
 * A real sentence-embedding model as an {@link Embedder}: a model package (model-package.ts) run by
 * onnxruntime-web, WordPiece-tokenized by the core tokenizer, pooled and L2-normalised here.
 *
 * Why onnxruntime-web and not onnxruntime-node: the web build is WebAssembly, installs from the npm
 * registry with no install script (onnxruntime-node's postinstall fetches CUDA libraries from NuGet
 * on linux/x64, which fails offline), and the same runtime then serves browsers. It is imported
 * dynamically, so a node that never loads a model never needs it; when it is missing, loading a
 * model fails with `ERR_KERNEL_MODEL_LOAD_FAILED` and says what to install.
 *
 * onnxruntime-web runs one WASM thread here (`env.wasm.numThreads = 1`, process-wide, set before
 * the first session): the worker pool already runs one task per core, and one thread keeps the
 * float summation order, and so the output, stable from run to run.
 */
import type { Embedder, EmbedOptions } from '../../core/kernels/embedder.ts'
import { KernelError } from '../../core/kernels/errors.ts'
import { WordPieceTokenizer, parseVocab } from '../../core/kernels/tokenizer.ts'
import { readModelPackage } from './model-package.ts'
import type { ModelSource, OnnxEmbedderConfig } from './model-package.ts'

/** The onnxruntime module shape this adapter uses (onnxruntime-web's). @example const importRuntime = async (): Promise<OrtModule> => await import('onnxruntime-web') */
export type OrtModule = typeof import('onnxruntime-web')
type Session = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>

/** How many texts one session run takes at most (default of {@link OnnxEmbedderInit.batchSize}). @example ONNX_DEFAULT_BATCH === 32 */
export const ONNX_DEFAULT_BATCH = 32

/** Options of {@link loadOnnxEmbedder}: where the package is, plus tuning. @example await loadOnnxEmbedder({ modelDir: '/opt/models/minilm' }) */
export type OnnxEmbedderInit = ModelSource & {
  /** Texts per session run, 1..1024. Default 32. */
  readonly batchSize?: number
  readonly signal?: AbortSignal
  /** How to import onnxruntime; default `import('onnxruntime-web')`. Tests inject failures here. */
  readonly importRuntime?: () => Promise<OrtModule>
}

const REQUIRED_INPUTS = ['input_ids', 'attention_mask']
const OPTIONAL_INPUTS = ['token_type_ids']
const PROBE_TEXT = 'edge-net probe'

function fail (message: string, cause?: unknown): KernelError {
  return new KernelError('ERR_KERNEL_MODEL_LOAD_FAILED', message, cause === undefined ? undefined : { cause })
}

async function importOrt (importRuntime: (() => Promise<OrtModule>) | undefined): Promise<OrtModule> {
  try {
    const ort = await (importRuntime ?? (async () => await import('onnxruntime-web')))()
    if (typeof ort?.InferenceSession?.create !== 'function' || typeof ort.Tensor !== 'function') throw new Error('the module does not look like onnxruntime')
    return ort
  } catch (err) {
    throw fail(`onnxruntime-web is not available (${(err as Error).message}); install it with \`npm install onnxruntime-web\` to load ONNX embedding models`, err)
  }
}

/**
 * Pool one output tensor into unit vectors. `data` is [batch, seq, dim] for `mean` / `cls`, or
 * [batch, dim] for `none`; `mask` is the attention mask [batch, seq]. Sums run in float64 in token
 * order; the result is divided by its L2 norm (all zeros stays zeros) and rounded to float32.
 *
 * @example poolAndNormalise('mean', data, [2, 5, 384], mask).length // 2
 */
export function poolAndNormalise (pooling: OnnxEmbedderConfig['pooling'], data: Float32Array, dims: readonly number[], mask: BigInt64Array): Float32Array[] {
  const out: Float32Array[] = []
  const batch = dims[0] as number
  const dim = dims[dims.length - 1] as number
  const seq = pooling === 'none' ? 1 : dims[1] as number
  for (let b = 0; b < batch; b++) {
    const acc = new Float64Array(dim)
    if (pooling === 'none') {
      for (let d = 0; d < dim; d++) acc[d] = data[b * dim + d] as number
    } else if (pooling === 'cls') {
      for (let d = 0; d < dim; d++) acc[d] = data[b * seq * dim + d] as number
    } else {
      let count = 0
      for (let t = 0; t < seq; t++) {
        if (mask[b * seq + t] === 0n) continue
        count++
        const base = (b * seq + t) * dim
        for (let d = 0; d < dim; d++) acc[d] = (acc[d] as number) + (data[base + d] as number)
      }
      for (let d = 0; d < dim; d++) acc[d] = (acc[d] as number) / Math.max(count, 1)
    }
    let sum = 0
    for (let d = 0; d < dim; d++) sum += (acc[d] as number) * (acc[d] as number)
    const v = new Float32Array(dim)
    if (sum > 0) {
      const norm = Math.sqrt(sum)
      for (let d = 0; d < dim; d++) v[d] = (acc[d] as number) / norm
    }
    out.push(v)
  }
  return out
}

/** An ONNX model package as an {@link Embedder}. Built by {@link loadOnnxEmbedder}. */
class OnnxEmbedder implements Embedder {
  readonly id: string
  readonly dim: number
  readonly config: OnnxEmbedderConfig
  readonly #ort: OrtModule
  readonly #session: Session
  readonly #tokenizer: WordPieceTokenizer
  readonly #inputs: readonly string[]
  readonly #output: string
  readonly #batchSize: number
  // onnxruntime-web sessions take one run at a time: runs are queued on this chain.
  #queue: Promise<unknown> = Promise.resolve()
  #disposed = false

  constructor (parts: { id: string, config: OnnxEmbedderConfig, ort: OrtModule, session: Session, tokenizer: WordPieceTokenizer, inputs: string[], output: string, batchSize: number }) {
    this.id = parts.id
    this.dim = parts.config.dim
    this.config = parts.config
    this.#ort = parts.ort
    this.#session = parts.session
    this.#tokenizer = parts.tokenizer
    this.#inputs = parts.inputs
    this.#output = parts.output
    this.#batchSize = parts.batchSize
  }

  /** Run one batch and return its output tensor's data and dims, unchecked. */
  async runRaw (texts: readonly string[]): Promise<{ data: Float32Array, dims: number[], mask: BigInt64Array }> {
    const enc = this.#tokenizer.encodeBatch(texts, this.config.maxTokens)
    const shape = [enc.batch, enc.length]
    const all: Record<string, BigInt64Array> = { input_ids: enc.inputIds, attention_mask: enc.attentionMask, token_type_ids: enc.tokenTypeIds }
    const feeds: Record<string, InstanceType<OrtModule['Tensor']>> = {}
    for (const name of this.#inputs) feeds[name] = new this.#ort.Tensor('int64', all[name] as BigInt64Array, shape)
    let result
    try {
      result = await this.#session.run(feeds, [this.#output])
    } catch (err) {
      throw fail(`model ${this.id} failed to run: ${(err as Error).message}`, err)
    }
    const tensor = result[this.#output]
    if (tensor === undefined || tensor.type !== 'float32' || !(tensor.data instanceof Float32Array)) throw fail(`model ${this.id}: output ${this.#output} is not a float32 tensor`)
    return { data: tensor.data, dims: [...tensor.dims], mask: enc.attentionMask }
  }

  /** Check an output's shape against the pooling and dim; a message if wrong. */
  shapeProblem (dims: readonly number[], batch: number, seq: number): string | undefined {
    const want = this.config.pooling === 'none' ? [batch, this.dim] : [batch, seq, this.dim]
    if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
      return `output ${this.#output} has shape [${dims.join(', ')}], expected [${want.join(', ')}] (pooling '${this.config.pooling}', dim ${this.dim})`
    }
    return undefined
  }

  async #embedBatch (texts: readonly string[]): Promise<Float32Array[]> {
    const { data, dims, mask } = await this.runRaw(texts)
    const problem = this.shapeProblem(dims, texts.length, mask.length / Math.max(texts.length, 1))
    if (problem !== undefined) throw fail(`model ${this.id}: ${problem}`)
    return poolAndNormalise(this.config.pooling, data, dims, mask)
  }

  async embed (texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    if (this.#disposed) throw fail(`model ${this.id} has been disposed`)
    for (const t of texts) if (typeof t !== 'string') throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', 'a text is not a string')
    const job = this.#queue.then(async () => {
      const out: Float32Array[] = []
      for (let i = 0; i < texts.length; i += this.#batchSize) {
        options.signal?.throwIfAborted()
        out.push(...await this.#embedBatch(texts.slice(i, i + this.#batchSize)))
      }
      return out
    })
    this.#queue = job.catch(() => undefined)
    return await job
  }

  async dispose (): Promise<void> {
    if (this.#disposed) return
    this.#disposed = true
    await this.#queue
    await this.#session.release()
  }
}

/**
 * Load an ONNX sentence-embedding model package and check that it is one: it must take int64
 * `input_ids` and `attention_mask` (and optionally `token_type_ids`) and nothing else, and a probe
 * text must come out with the shape its config promises. Every failure (package missing or
 * invalid, onnxruntime missing, file not ONNX, wrong inputs or output shape) is
 * `ERR_KERNEL_MODEL_LOAD_FAILED` with the reason.
 *
 * @example
 * const onnx = await loadOnnxEmbedder({ modelDir: '/opt/edge-net/models/all-MiniLM-L6-v2' })
 * const kernel = embeddingKernel(embedderRegistry([DEFAULT_EMBEDDER, onnx]))
 */
export async function loadOnnxEmbedder (init: OnnxEmbedderInit): Promise<Embedder & { readonly config: OnnxEmbedderConfig }> {
  const batchSize = init.batchSize ?? ONNX_DEFAULT_BATCH
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 1024) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `batchSize must be an integer in 1..1024, got ${batchSize}`)
  init.signal?.throwIfAborted()
  const pkg = await readModelPackage(init)
  const tokenizer = new WordPieceTokenizer(parseVocab(pkg.vocabText), { lowercase: pkg.config.lowercase ?? true })
  const ort = await importOrt(init.importRuntime)
  init.signal?.throwIfAborted()
  ort.env.wasm.numThreads = 1
  let session: Session
  try {
    session = await ort.InferenceSession.create(pkg.modelBytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' })
  } catch (err) {
    throw fail(`model ${pkg.id} is not a loadable ONNX model: ${(err as Error).message}`, err)
  }
  try {
    const inputs = [...session.inputNames]
    for (const name of REQUIRED_INPUTS) if (!inputs.includes(name)) throw fail(`model ${pkg.id} lacks the input ${name}; inputs are [${inputs.join(', ')}]: not a BERT-style sentence encoder`)
    for (const name of inputs) if (!REQUIRED_INPUTS.includes(name) && !OPTIONAL_INPUTS.includes(name)) throw fail(`model ${pkg.id} wants an input ${name} this loader cannot feed`)
    const output = pkg.config.output ?? session.outputNames[0]
    if (output === undefined || !session.outputNames.includes(output)) throw fail(`model ${pkg.id} has no output ${String(output)}; outputs are [${session.outputNames.join(', ')}]`)
    const embedder = new OnnxEmbedder({ id: pkg.id, config: pkg.config, ort, session, tokenizer, inputs, output, batchSize })
    // The probe: one short text through the whole path, shape checked against the config.
    const probe = await embedder.runRaw([PROBE_TEXT])
    const problem = embedder.shapeProblem(probe.dims, 1, probe.mask.length)
    if (problem !== undefined) throw fail(`model ${pkg.id}: ${problem}`)
    return embedder
  } catch (err) {
    await session.release().catch(() => undefined)
    if (err instanceof KernelError) throw err
    throw fail(`model ${pkg.id} failed its probe run: ${(err as Error).message}`, err)
  }
}
