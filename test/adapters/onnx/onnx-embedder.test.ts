/**
 * The ONNX loader against the project's own tiny model (scripts/make-tiny-onnx.ts, committed under
 * test/fixtures/tiny-embedder/): a real onnxruntime-web session whose output must equal a plain
 * TypeScript forward pass over the same weights; every way a model package can be broken.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile, mkdir, copyFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_EMBEDDER, decodeEmbeddingOutput, embedderRegistry, embeddingKernel, encodeEmbeddingPayload } from '../../../src/core/kernels/embedding.ts'
import { decodeSemanticMatchOutput, encodeSemanticMatchPayload, semanticMatchKernel } from '../../../src/core/kernels/semantic-match.ts'
import { WordPieceTokenizer, parseVocab } from '../../../src/core/kernels/tokenizer.ts'
import { loadOnnxEmbedder, readModelPackage } from '../../../src/adapters/onnx/index.ts'
import type { OnnxEmbedderConfig } from '../../../src/adapters/onnx/index.ts'
import { ONNX_FLOAT, ONNX_INT64, TINY_CONFIG, makeTinyEmbedder, model, node, valueInfo } from '../../../scripts/make-tiny-onnx.ts'
import type { TinyEmbedder } from '../../../scripts/make-tiny-onnx.ts'
import { kernelError } from '../../core/kernels/helpers.ts'

const FIXTURE = fileURLToPath(new URL('../../fixtures/tiny-embedder/', import.meta.url))
const tiny = makeTinyEmbedder()
const TEXTS = ['Translate English to French', 'review python code, please!', 'unknownwordzzz ☃', '', 'summarize the legal contract documents quickly']

const failed = kernelError('ERR_KERNEL_MODEL_LOAD_FAILED')

/** The tiny model's forward pass in float64, pooled as asked, L2-normalised. */
function reference (t: TinyEmbedder, text: string, pooling: 'mean' | 'cls'): Float64Array {
  const tok = new WordPieceTokenizer(parseVocab(t.vocabText))
  const ids = tok.encode(text, TINY_CONFIG.maxTokens)
  const states = ids.map(id => {
    const h = new Float64Array(t.hidden)
    for (let j = 0; j < t.hidden; j++) h[j] = (t.word[id * t.hidden + j] as number) + (t.type[j] as number)
    const out = new Float64Array(t.dim)
    for (let d = 0; d < t.dim; d++) {
      let s = t.bias[d] as number
      for (let j = 0; j < t.hidden; j++) s += (h[j] as number) * (t.dense[j * t.dim + d] as number)
      out[d] = Math.tanh(s)
    }
    return out
  })
  const pooled = new Float64Array(t.dim)
  const used = pooling === 'cls' ? states.slice(0, 1) : states
  for (const s of used) for (let d = 0; d < t.dim; d++) pooled[d] = (pooled[d] as number) + (s[d] as number) / used.length
  const n = Math.sqrt(pooled.reduce((a, x) => a + x * x, 0))
  return pooled.map(x => x / n)
}

function assertClose (got: Float32Array, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, what)
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs((got[i] as number) - (want[i] as number)) <= tol, `${what}[${i}]: ${got[i]} vs ${want[i]}`)
}

describe('adapters/onnx', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'edge-net-onnx-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  /** A package directory with some parts replaced. */
  async function pkg (name: string, parts: { model?: Uint8Array, vocab?: string | null, config?: unknown }): Promise<string> {
    const d = join(dir, name)
    await mkdir(d)
    await writeFile(join(d, 'model.onnx'), parts.model ?? tiny.modelBytes)
    if (parts.vocab !== null) await writeFile(join(d, 'vocab.txt'), parts.vocab ?? tiny.vocabText)
    await writeFile(join(d, 'embedder.json'), typeof parts.config === 'string' ? parts.config : JSON.stringify(parts.config ?? TINY_CONFIG))
    return d
  }

  it('has a committed fixture that the script rebuilds byte for byte', async () => {
    assert.deepEqual(new Uint8Array(await readFile(join(FIXTURE, 'model.onnx'))), tiny.modelBytes)
    assert.equal(await readFile(join(FIXTURE, 'vocab.txt'), 'utf8'), tiny.vocabText)
    assert.equal(await readFile(join(FIXTURE, 'embedder.json'), 'utf8'), tiny.configText)
    assert.ok(tiny.modelBytes.length < 64 * 1024)
  })

  it('loads the tiny model and matches the TypeScript reference within 1e-5', async () => {
    const e = await loadOnnxEmbedder({ modelDir: FIXTURE })
    try {
      assert.match(e.id, /^onnx\/tiny-embedder@1\/[0-9a-f]{16}$/)
      assert.equal(e.dim, 16)
      const vectors = await e.embed(TEXTS)
      TEXTS.forEach((t, i) => assertClose(vectors[i] as Float32Array, reference(tiny, t, 'mean'), 1e-5, t))
      // Padding in a batch does not leak into a shorter text's vector.
      const [alone] = await e.embed([TEXTS[0] as string])
      assertClose(alone as Float32Array, vectors[0] as Float32Array, 1e-6, 'alone vs batched')
    } finally {
      await e.dispose?.()
    }
  })

  it('pools by cls, or reads an already pooled output, as the config says', async () => {
    const base = { modelPath: join(FIXTURE, 'model.onnx'), vocabPath: join(FIXTURE, 'vocab.txt') }
    const cls = await loadOnnxEmbedder({ ...base, config: { ...TINY_CONFIG, pooling: 'cls' } })
    const none = await loadOnnxEmbedder({ ...base, config: { ...TINY_CONFIG, pooling: 'none', output: 'sentence_embedding' } })
    try {
      const c = await cls.embed(TEXTS)
      const n = await none.embed(TEXTS)
      TEXTS.forEach((t, i) => {
        assertClose(c[i] as Float32Array, reference(tiny, t, 'cls'), 1e-5, `cls ${t}`)
        assertClose(n[i] as Float32Array, reference(tiny, t, 'mean'), 1e-5, `none ${t}`)
      })
      assert.notEqual(cls.id, none.id)
    } finally {
      await cls.dispose?.()
      await none.dispose?.()
    }
  })

  it('feeds no token_type_ids to a model that does not take them', async () => {
    const plain = makeTinyEmbedder(7, { tokenTypes: false })
    const d = await pkg('no-types', { model: plain.modelBytes, vocab: plain.vocabText })
    const e = await loadOnnxEmbedder({ modelDir: d })
    try {
      const vectors = await e.embed(TEXTS)
      TEXTS.forEach((t, i) => assertClose(vectors[i] as Float32Array, reference(plain, t, 'mean'), 1e-5, t))
    } finally {
      await e.dispose?.()
    }
  })

  it('gives the same vectors whatever the batch size, and under concurrent calls', async () => {
    const one = await loadOnnxEmbedder({ modelDir: FIXTURE, batchSize: 2 })
    const big = await loadOnnxEmbedder({ modelDir: FIXTURE })
    try {
      assert.equal(one.id, big.id)
      const [a, b, c] = await Promise.all([one.embed(TEXTS), big.embed(TEXTS), big.embed(TEXTS.slice(1))])
      TEXTS.forEach((_, i) => assertClose(a[i] as Float32Array, b[i] as Float32Array, 1e-6, `batch ${i}`))
      TEXTS.slice(1).forEach((_, i) => assertClose(c[i] as Float32Array, b[i + 1] as Float32Array, 1e-6, `concurrent ${i}`))
    } finally {
      await one.dispose?.()
      await big.dispose?.()
    }
    await assert.rejects(big.embed(['x']), failed)
  })

  it('plugs into the embedding and semantic_match kernels', async () => {
    const e = await loadOnnxEmbedder({ modelDir: FIXTURE })
    try {
      const registry = embedderRegistry([DEFAULT_EMBEDDER, e])
      const kernel = embeddingKernel(registry)
      const payload = encodeEmbeddingPayload({ model: e.id, texts: TEXTS })
      const out = await kernel.run(payload)
      assert.equal(decodeEmbeddingOutput(out).dim, 16)
      assert.ok(kernel.agree(out, await kernel.run(payload)))
      const match = semanticMatchKernel(registry)
      const ranked = decodeSemanticMatchOutput(await match.run(encodeSemanticMatchPayload({ model: e.id, tasks: [TEXTS[0] as string], candidates: TEXTS, k: 3 })))
      assert.equal(ranked.rankings[0]?.[0]?.index, 0)
      assert.equal(ranked.rankings[0]?.[0]?.score, 1_000_000)
    } finally {
      await e.dispose?.()
    }
  })

  it('names different files with different ids', async () => {
    const a = await readModelPackage({ modelDir: FIXTURE })
    const b = await readModelPackage({ modelDir: await pkg('other-vocab', { vocab: tiny.vocabText.replace('\nhotel\n', '\nmotel\n') }) })
    assert.notEqual(a.id, b.id)
    assert.equal(a.id, (await readModelPackage({ modelDir: FIXTURE })).id)
  })

  describe('refuses a broken package with ERR_KERNEL_MODEL_LOAD_FAILED', () => {
    it('a missing directory, model or vocabulary', async () => {
      await assert.rejects(loadOnnxEmbedder({ modelDir: join(dir, 'nope') }), failed)
      await assert.rejects(loadOnnxEmbedder({ modelDir: await pkg('no-vocab', { vocab: null }) }), failed)
      const noModel = await pkg('no-model', {})
      await rm(join(noModel, 'model.onnx'))
      await assert.rejects(loadOnnxEmbedder({ modelDir: noModel }), failed)
      await assert.rejects(loadOnnxEmbedder({ modelDir: dir + '/no-vocab/vocab.txt' }), failed)
    })

    it('a corrupt or truncated model file', async () => {
      await assert.rejects(loadOnnxEmbedder({ modelDir: await pkg('garbage', { model: new TextEncoder().encode('this is not onnx at all') }) }), failed)
      await assert.rejects(loadOnnxEmbedder({ modelDir: await pkg('truncated', { model: tiny.modelBytes.slice(0, tiny.modelBytes.length - 300) }) }), failed)
    })

    it('a vocabulary without the special tokens, or not UTF-8', async () => {
      await assert.rejects(loadOnnxEmbedder({ modelDir: await pkg('bad-vocab', { vocab: 'hello\nworld\n' }) }), failed)
      const d = await pkg('latin1-vocab', {})
      await writeFile(join(d, 'vocab.txt'), Uint8Array.of(0x5B, 0x50, 0x41, 0x44, 0x5D, 0x0A, 0xE9, 0x0A))
      await assert.rejects(loadOnnxEmbedder({ modelDir: d }), failed)
    })

    it('a bad config', async () => {
      const bad: unknown[] = [
        'not json',
        [],
        { ...TINY_CONFIG, pooling: 'max' },
        { ...TINY_CONFIG, dim: 0 },
        { ...TINY_CONFIG, maxTokens: 1 },
        { ...TINY_CONFIG, name: 'has space' },
        { ...TINY_CONFIG, surprise: true },
        { ...TINY_CONFIG, lowercase: 'yes' },
        { name: 'x', version: '1', dim: 16, pooling: 'mean' }
      ]
      for (const [i, config] of bad.entries()) await assert.rejects(loadOnnxEmbedder({ modelDir: await pkg(`bad-config-${i}`, { config }) }), failed, JSON.stringify(config))
    })

    it('a config that does not fit the model (dim, output, pooling)', async () => {
      const base = { modelPath: join(FIXTURE, 'model.onnx'), vocabPath: join(FIXTURE, 'vocab.txt') }
      const configs: OnnxEmbedderConfig[] = [
        { ...TINY_CONFIG, dim: 8 },
        { ...TINY_CONFIG, output: 'no_such_output' },
        { ...TINY_CONFIG, pooling: 'none' }, // last_hidden_state is 3-D
        { ...TINY_CONFIG, pooling: 'mean', output: 'sentence_embedding' } // 2-D
      ]
      for (const config of configs) await assert.rejects(loadOnnxEmbedder({ ...base, config }), failed, JSON.stringify(config))
    })

    it('a model that is not a BERT-style sentence encoder', async () => {
      const identity = model({
        name: 'not_bert',
        nodes: [node('Identity', ['x'], ['y'])],
        initializers: [],
        inputs: [valueInfo('x', ONNX_FLOAT, ['n', 16])],
        outputs: [valueInfo('y', ONNX_FLOAT, ['n', 16])]
      })
      await assert.rejects(loadOnnxEmbedder({ modelDir: await pkg('identity', { model: identity }) }), failed)
      const extraInput = model({
        name: 'extra_input',
        nodes: [node('Cast', ['input_ids'], ['y'], { to: ONNX_FLOAT })],
        initializers: [],
        inputs: [valueInfo('input_ids', ONNX_INT64, ['b', 's']), valueInfo('attention_mask', ONNX_INT64, ['b', 's']), valueInfo('position_ids', ONNX_INT64, ['b', 's'])],
        outputs: [valueInfo('y', ONNX_FLOAT, ['b', 's'])]
      })
      await assert.rejects(loadOnnxEmbedder({ modelDir: await pkg('extra-input', { model: extraInput }) }), failed)
    })

    it('onnxruntime not installed', async () => {
      const missing = async (): Promise<never> => { throw Object.assign(new Error("Cannot find package 'onnxruntime-web'"), { code: 'ERR_MODULE_NOT_FOUND' }) }
      await assert.rejects(loadOnnxEmbedder({ modelDir: FIXTURE, importRuntime: missing }), (err: unknown) => failed(err) && /npm install onnxruntime-web/.test((err as Error).message))
      await assert.rejects(loadOnnxEmbedder({ modelDir: FIXTURE, importRuntime: async () => ({}) as never }), failed)
    })

    it('a bad batch size is a bad parameter', async () => {
      await assert.rejects(loadOnnxEmbedder({ modelDir: FIXTURE, batchSize: 0 }), kernelError('ERR_KERNEL_BAD_PARAMETER'))
    })
  })

  it('reads the same package from explicit paths as from its directory', async () => {
    const d = join(dir, 'copy')
    await mkdir(d)
    for (const f of ['model.onnx', 'vocab.txt', 'embedder.json']) await copyFile(join(FIXTURE, f), join(d, f))
    const viaDir = await readModelPackage({ modelDir: d })
    const viaPaths = await readModelPackage({ modelPath: join(d, 'model.onnx'), vocabPath: join(d, 'vocab.txt'), config: TINY_CONFIG })
    assert.equal(viaDir.id, viaPaths.id)
  })
})
