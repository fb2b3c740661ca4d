/**
 * The default embedder (hashed n-grams) and the `embedding` kernel: determinism pinned by golden
 * digests, unit norm, lexical similarity, every bad input, agreement tolerance.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { check } from '../../helpers/property.ts'
import { checkAsync, kernelError } from './helpers.ts'
import { encodeCanonical } from '../../../src/core/codec/index.ts'
import { KernelError } from '../../../src/core/kernels/errors.ts'
import { floatsToBytes } from '../../../src/core/kernels/floats.ts'
import {
  DEFAULT_EMBEDDER, DEFAULT_EMBEDDERS, EMBEDDING_KERNEL, EMBEDDING_LIMITS, HashedNgramEmbedder, cosine,
  decodeEmbeddingOutput, decodeEmbeddingPayload, embedderFor, embedderRegistry, embeddingKernel,
  encodeEmbeddingOutput, encodeEmbeddingPayload, stableHash32, vectorsAgree
} from '../../../src/core/kernels/embedding.ts'
import type { Embedder } from '../../../src/core/kernels/embedding.ts'

const hashed = new HashedNgramEmbedder()
const MODEL = DEFAULT_EMBEDDER.id

function norm (v: Float32Array): number {
  let s = 0
  for (const x of v) s += x * x
  return Math.sqrt(s)
}

// Reference FNV-1a (draft-eastlake-fnv §2) over TextEncoder's bytes, plus MurmurHash3's fmix32.
function fnv1a (bytes: Uint8Array): number {
  let h = 0x811C9DC5
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193)
  return h >>> 0
}
function fmix32 (h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85EBCA6B); h ^= h >>> 13; h = Math.imul(h, 0xC2B2AE35); h ^= h >>> 16
  return h >>> 0
}

describe('kernels/embedding', () => {
  describe('stableHash32()', () => {
    it('is FNV-1a over UTF-8 then fmix32 (reference checked against published FNV vectors)', () => {
      assert.equal(fnv1a(new TextEncoder().encode('a')), 0xE40C292C)
      assert.equal(fnv1a(new TextEncoder().encode('foobar')), 0xBF9CF968)
      check(fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('w', 'c'), (text, kind) => {
        assert.equal(stableHash32(kind, text), fmix32(fnv1a(new TextEncoder().encode(kind + text))))
      }))
    })

    it('has pinned values', () => {
      assert.equal(stableHash32('w', 'hello'), 0xF7694B58)
      assert.equal(stableHash32('c', '<he'), 0xB41E04C7)
    })
  })

  describe('HashedNgramEmbedder', () => {
    it('gives bit-identical output, pinned by golden digests (a change here must change the id)', () => {
      const digest = (t: string): string => createHash('sha256').update(floatsToBytes(hashed.embedOne(t))).digest('hex')
      assert.equal(hashed.id, 'hashed-ngram-v1-512')
      assert.equal(digest('The quick brown fox jumps over the lazy dog.'), '5232df425745a6079b592e2b0486fc9ad4f89524ba848c6431ed395f3f438637')
      assert.equal(digest('Übersetze ins Französische: 東京 ☃ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 123'), 'f3a6812eddf125e53329d49cd15f8b5eb57051b2a86c6cfe6fa22943e4aae9a0')
    })

    it('is deterministic and batch-independent', async () => {
      await checkAsync(fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme', maxLength: 60 }), { minLength: 1, maxLength: 6 }), async texts => {
        const a = await hashed.embed(texts)
        const b = await hashed.embed([...texts].reverse())
        texts.forEach((t, i) => {
          assert.deepEqual(a[i], hashed.embedOne(t))
          assert.deepEqual(a[i], b[texts.length - 1 - i])
        })
      }), 100)
    })

    it('returns unit vectors, or zeros for a text without words', () => {
      check(fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), text => {
        const v = hashed.embedOne(text)
        assert.equal(v.length, 512)
        const n = norm(v)
        if (/[\p{L}\p{M}\p{N}]/u.test(text.normalize('NFKC'))) assert.ok(Math.abs(n - 1) < 1e-6, `norm ${n}`)
        else assert.equal(n, 0)
      }))
      assert.equal(norm(hashed.embedOne('')), 0)
      assert.equal(norm(hashed.embedOne(' !?… ')), 0)
    })

    it('ignores case, compatibility forms and punctuation', () => {
      assert.deepEqual(hashed.embedOne('Ｈｅｌｌｏ,  WORLD!'), hashed.embedOne('hello world'))
    })

    it('puts texts that share words closer than unrelated ones', () => {
      const task = hashed.embedOne('translate English to French')
      assert.ok(cosine(task, hashed.embedOne('French translation from English')) > cosine(task, hashed.embedOne('detect objects in images')) + 0.3)
      // Texts over disjoint alphabets share no feature: only hash collisions relate them.
      const word = fc.stringMatching(/^[a-m]{3,8}$/)
      const other = fc.stringMatching(/^[n-z]{3,8}$/)
      check(fc.property(fc.array(word, { minLength: 2, maxLength: 8 }), word, fc.array(other, { minLength: 2, maxLength: 8 }), (base, extra, unrelated) => {
        const a = hashed.embedOne(base.join(' '))
        const closer = cosine(a, hashed.embedOne(`${base.join(' ')} ${extra}`))
        const far = cosine(a, hashed.embedOne(unrelated.join(' ')))
        assert.ok(closer > far, `closer ${closer} <= far ${far}`)
        assert.ok(Math.abs(far) < 0.35, `unrelated cosine ${far}`)
      }))
    })

    it('refuses a dim that is not a power of two in 16..4096', () => {
      for (const dim of [0, 8, 100, 8192, 1.5]) assert.throws(() => new HashedNgramEmbedder({ dim }), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.equal(new HashedNgramEmbedder({ dim: 64 }).id, 'hashed-ngram-v1-64')
    })
  })

  describe('embedderRegistry()', () => {
    it('refuses duplicate ids, bad ids and bad dims; finds by id', () => {
      const fake = (id: string, dim: number): Embedder => ({ id, dim, embed: async () => [] })
      assert.throws(() => embedderRegistry([DEFAULT_EMBEDDER, DEFAULT_EMBEDDER]), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.throws(() => embedderRegistry([fake('has space', 4)]), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.throws(() => embedderRegistry([fake('', 4)]), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.throws(() => embedderRegistry([fake('x', 0)]), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.throws(() => embedderRegistry([fake('x', 4097)]), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.equal(embedderFor(DEFAULT_EMBEDDERS, MODEL), DEFAULT_EMBEDDER)
      assert.throws(() => embedderFor(DEFAULT_EMBEDDERS, 'nope'), kernelError('ERR_KERNEL_BAD_PARAMETER'))
    })
  })

  describe('the embedding kernel', () => {
    it('embeds each text with the named model; size is the text count', async () => {
      const texts = ['translate English to French', 'review Python code', '']
      const payload = encodeEmbeddingPayload({ model: MODEL, texts })
      assert.deepEqual(decodeEmbeddingPayload(payload), { model: MODEL, texts })
      assert.equal(EMBEDDING_KERNEL.size(payload), 3)
      assert.equal(EMBEDDING_KERNEL.type, 'embedding')
      const out = decodeEmbeddingOutput(await EMBEDDING_KERNEL.run(payload))
      assert.equal(out.dim, 512)
      assert.equal(out.vectors.length, 3)
      texts.forEach((t, i) => assert.deepEqual(out.vectors[i], hashed.embedOne(t)))
    })

    it('runs any registered embedder', async () => {
      const small = new HashedNgramEmbedder({ dim: 16 })
      const kernel = embeddingKernel(embedderRegistry([DEFAULT_EMBEDDER, small]))
      const out = decodeEmbeddingOutput(await kernel.run(encodeEmbeddingPayload({ model: small.id, texts: ['a b'] })))
      assert.equal(out.dim, 16)
      // A node without the model prices the task (size) but refuses to run it.
      const elsewhere = encodeEmbeddingPayload({ model: small.id, texts: ['a', 'b'] })
      assert.equal(EMBEDDING_KERNEL.size(elsewhere), 2)
      await assert.rejects(EMBEDDING_KERNEL.run(elsewhere), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      await assert.rejects(EMBEDDING_KERNEL.run(encodeEmbeddingPayload({ model: 'no-such-model', texts: ['a'] })), kernelError('ERR_KERNEL_BAD_PARAMETER'))
    })

    it('refuses every bad input with a precise code, in size() and run()', async () => {
      const raw = (v: unknown): Uint8Array => encodeCanonical(v)
      const cases: Array<[string, Uint8Array, string]> = [
        ['empty list', raw({ model: MODEL, texts: [] }), 'ERR_KERNEL_BAD_PARAMETER'],
        ['too many texts', raw({ model: MODEL, texts: Array(EMBEDDING_LIMITS.maxTexts + 1).fill('x') }), 'ERR_KERNEL_PAYLOAD_TOO_LARGE'],
        ['too long text', raw({ model: MODEL, texts: ['é'.repeat(4097)] }), 'ERR_KERNEL_PAYLOAD_TOO_LARGE'],
        ['non-string text', raw({ model: MODEL, texts: ['a', 7] }), 'ERR_KERNEL_BAD_PAYLOAD'],
        ['bytes as text', raw({ model: MODEL, texts: [new Uint8Array(2)] }), 'ERR_KERNEL_BAD_PAYLOAD'],
        ['texts not a list', raw({ model: MODEL, texts: 'a' }), 'ERR_KERNEL_BAD_PAYLOAD'],
        ['malformed model id', raw({ model: 'a b', texts: ['a'] }), 'ERR_KERNEL_BAD_PARAMETER'],
        ['model not text', raw({ model: 1, texts: ['a'] }), 'ERR_KERNEL_BAD_PAYLOAD'],
        ['missing key', raw({ texts: ['a'] }), 'ERR_KERNEL_BAD_PAYLOAD'],
        ['extra key', raw({ model: MODEL, texts: ['a'], k: 1 }), 'ERR_KERNEL_BAD_PAYLOAD'],
        ['not a map', raw([MODEL, ['a']]), 'ERR_KERNEL_BAD_PAYLOAD'],
        ['not CBOR', new Uint8Array([0xFF, 0x00]), 'ERR_KERNEL_BAD_PAYLOAD'],
        ['empty bytes', new Uint8Array(0), 'ERR_KERNEL_BAD_PAYLOAD'],
        ['oversized payload', raw({ model: MODEL, texts: Array(200).fill('x'.repeat(8000)) }), 'ERR_KERNEL_PAYLOAD_TOO_LARGE']
      ]
      for (const [what, payload, c] of cases) {
        assert.throws(() => EMBEDDING_KERNEL.size(payload), kernelError(c), what)
        await assert.rejects(EMBEDDING_KERNEL.run(payload), kernelError(c), what)
      }
      assert.throws(() => EMBEDDING_KERNEL.size('x' as unknown as Uint8Array), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
    })

    it('refuses the same inputs when a client encodes them', () => {
      assert.throws(() => encodeEmbeddingPayload({ model: MODEL, texts: [] }), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.throws(() => encodeEmbeddingPayload({ model: MODEL, texts: ['\uD800'] }), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      assert.throws(() => encodeEmbeddingPayload({ model: MODEL, texts: [null as unknown as string] }), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      assert.throws(() => encodeEmbeddingPayload({ model: MODEL, texts: Array(200).fill('x'.repeat(8000)) }), kernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE'))
    })

    it('fails a task whose embedder breaks its contract', async () => {
      const wrongLength: Embedder = { id: 'bad-len', dim: 4, embed: async t => t.map(() => new Float32Array(3)) }
      const wrongCount: Embedder = { id: 'bad-count', dim: 4, embed: async () => [] }
      const nan: Embedder = { id: 'bad-nan', dim: 2, embed: async t => t.map(() => Float32Array.of(NaN, 0)) }
      const kernel = embeddingKernel(embedderRegistry([wrongLength, wrongCount, nan]))
      await assert.rejects(kernel.run(encodeEmbeddingPayload({ model: 'bad-len', texts: ['a'] })), kernelError('ERR_KERNEL_DIMENSION_MISMATCH'))
      await assert.rejects(kernel.run(encodeEmbeddingPayload({ model: 'bad-count', texts: ['a'] })), kernelError('ERR_KERNEL_DIMENSION_MISMATCH'))
      await assert.rejects(kernel.run(encodeEmbeddingPayload({ model: 'bad-nan', texts: ['a'] })), kernelError('ERR_KERNEL_NON_FINITE'))
    })

    it('stops on an aborted signal', async () => {
      const payload = encodeEmbeddingPayload({ model: MODEL, texts: ['a'] })
      await assert.rejects(EMBEDDING_KERNEL.run(payload, { signal: AbortSignal.abort() }), { name: 'AbortError' })
    })

    it('survives any mutation of a payload: a result or a KernelError, never another error', async () => {
      const payload = encodeEmbeddingPayload({ model: MODEL, texts: ['hello world', 'second text'] })
      await checkAsync(fc.asyncProperty(fc.nat(payload.length - 1), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const bad = payload.slice()
        bad[at] = (bad[at] as number) ^ xor
        try { EMBEDDING_KERNEL.size(bad); await EMBEDDING_KERNEL.run(bad) } catch (err) { assert.ok(err instanceof KernelError, String(err)) }
      }), 200)
    })
  })

  describe('agree()', () => {
    const out = (vectors: Float32Array[]): Uint8Array => encodeEmbeddingOutput({ dim: vectors[0]?.length ?? 1, vectors })

    it('agrees with itself and within the float tolerance', async () => {
      const payload = encodeEmbeddingPayload({ model: MODEL, texts: ['alpha beta', 'gamma'] })
      const a = await EMBEDDING_KERNEL.run(payload)
      assert.ok(EMBEDDING_KERNEL.agree(a, await EMBEDDING_KERNEL.run(payload)))
      const v = hashed.embedOne('alpha beta')
      const nudged = v.map((x, i) => x + (i % 2 === 0 ? 1e-7 : -1e-7))
      assert.ok(EMBEDDING_KERNEL.agree(out([v]), out([nudged])))
    })

    it('disagrees on another answer, another shape, another norm, or garbage', () => {
      const v = hashed.embedOne('alpha beta')
      const w = hashed.embedOne('gamma delta')
      assert.equal(EMBEDDING_KERNEL.agree(out([v, w]), out([w, v])), false)
      assert.equal(EMBEDDING_KERNEL.agree(out([v]), out([v, v])), false)
      assert.equal(EMBEDDING_KERNEL.agree(out([v]), out([v.map(x => x * 2)])), false)
      assert.equal(EMBEDDING_KERNEL.agree(out([v]), out([new Float32Array(512)])), false)
      assert.equal(EMBEDDING_KERNEL.agree(out([new Float32Array(512)]), out([new Float32Array(512)])), true)
      assert.equal(EMBEDDING_KERNEL.agree(out([v]), out([v.slice(0, 256)])), false)
      assert.equal(EMBEDDING_KERNEL.agree(out([v]), new Uint8Array([1, 2, 3])), false)
      assert.equal(EMBEDDING_KERNEL.agree(encodeCanonical({ dim: 2, vectors: floatsToBytes(Float32Array.of(NaN, 1)) }), encodeCanonical({ dim: 2, vectors: floatsToBytes(Float32Array.of(NaN, 1)) })), false)
      assert.equal(EMBEDDING_KERNEL.agree(encodeCanonical({ dim: 2, vectors: new Uint8Array(12) }), encodeCanonical({ dim: 2, vectors: new Uint8Array(12) })), false)
    })

    it('accepts exactly the pairs within cosine 0.9999 and norm 1e-4 (property)', () => {
      check(fc.property(fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }), fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }), (xs, ys) => {
        const a = Float32Array.from(xs)
        const b = Float32Array.from(ys)
        const expected = norm(a) === 0 || norm(b) === 0 ? norm(a) === norm(b) : Math.abs(norm(a) - norm(b)) <= 1e-4 && cosine(a, b) >= 0.9999
        assert.equal(vectorsAgree(a, b), expected)
      }))
    })
  })
})
