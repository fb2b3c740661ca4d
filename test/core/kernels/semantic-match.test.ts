/**
 * The `semantic_match` kernel: rankings against a brute-force reference, the obvious case, bad
 * inputs, output validation and the near-tie-tolerant agreement rule.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { check } from '../../helpers/property.ts'
import { checkAsync, kernelError } from './helpers.ts'
import { encodeCanonical } from '../../../src/core/codec/index.ts'
import { DEFAULT_EMBEDDER, HashedNgramEmbedder, embedderRegistry } from '../../../src/core/kernels/embedding.ts'
import {
  SEMANTIC_MATCH_KERNEL, SEMANTIC_MATCH_LIMITS, decodeSemanticMatchOutput, decodeSemanticMatchPayload,
  encodeSemanticMatchOutput, encodeSemanticMatchPayload, rankByCosine, semanticMatchKernel
} from '../../../src/core/kernels/semantic-match.ts'
import type { Match } from '../../../src/core/kernels/semantic-match.ts'

const MODEL = DEFAULT_EMBEDDER.id
const hashed = new HashedNgramEmbedder()

/** Brute force: every score by a plain dot product (unit vectors), then repeated selection of the best remaining. */
function bruteForce (task: string, candidates: readonly string[], k: number): Match[] {
  const q = hashed.embedOne(task)
  const scores = candidates.map(c => {
    const v = hashed.embedOne(c)
    let dot = 0
    for (let i = 0; i < v.length; i++) dot += (q[i] as number) * (v[i] as number)
    return Math.round(dot * 1e6) + 0 // no -0: CBOR has one zero
  })
  const taken = new Set<number>()
  const out: Match[] = []
  while (out.length < k) {
    let best = -1
    for (let i = 0; i < scores.length; i++) {
      if (taken.has(i)) continue
      if (best === -1 || (scores[i] as number) > (scores[best] as number)) best = i
    }
    taken.add(best)
    out.push({ index: best, score: scores[best] as number })
  }
  return out
}

const WORDS = ['translate', 'english', 'french', 'image', 'classify', 'python', 'code', 'review', 'legal', 'contract',
  'summarize', 'audio', 'speech', 'weather', 'forecast', 'stock', 'price', 'recipe', 'travel', 'hotel', 'the', 'to']
const text = fc.array(fc.constantFrom(...WORDS), { minLength: 0, maxLength: 6 }).map(ws => ws.join(' '))

describe('kernels/semantic_match', () => {
  it('ranks the agent whose description shares the task words first', async () => {
    const candidates = [
      'Image classifier: labels objects in photos',
      'Python code reviewer that finds bugs',
      'French translator: translates English text to French',
      'Weather forecast service'
    ]
    const payload = encodeSemanticMatchPayload({ model: MODEL, tasks: ['translate this English text to French', 'review my python code'], candidates, k: 2 })
    assert.equal(SEMANTIC_MATCH_KERNEL.size(payload), 2)
    assert.equal(SEMANTIC_MATCH_KERNEL.type, 'semantic_match')
    const { rankings } = decodeSemanticMatchOutput(await SEMANTIC_MATCH_KERNEL.run(payload))
    assert.equal(rankings.length, 2)
    assert.equal(rankings[0]?.[0]?.index, 2)
    assert.equal(rankings[1]?.[0]?.index, 1)
    assert.ok((rankings[0]?.[0]?.score ?? 0) > 300_000)
  })

  it('matches a brute-force ranking (property)', async () => {
    await checkAsync(fc.asyncProperty(
      fc.array(text, { minLength: 1, maxLength: 3 }),
      fc.array(text, { minLength: 1, maxLength: 20 }),
      fc.nat(),
      async (tasks, candidates, kSeed) => {
        const k = 1 + (kSeed % candidates.length)
        const out = decodeSemanticMatchOutput(await SEMANTIC_MATCH_KERNEL.run(encodeSemanticMatchPayload({ model: MODEL, tasks, candidates, k })))
        tasks.forEach((t, i) => {
          const expected = bruteForce(t, candidates, k)
          const got = out.rankings[i] as Match[]
          assert.equal(got.length, k)
          got.forEach((m, r) => {
            // The dot product and the kernel's cosine may round differently at a half ppm.
            assert.ok(Math.abs(m.score - (expected[r] as Match).score) <= 1, `rank ${r}: ${m.score} vs ${(expected[r] as Match).score}`)
          })
          if (got.every((m, r) => m.score === (expected[r] as Match).score)) assert.deepEqual(got, expected)
        })
      }
    ), 100)
  })

  it('ranks by score descending, then index ascending', () => {
    const v = hashed.embedOne('alpha')
    const w = hashed.embedOne('beta')
    assert.deepEqual(rankByCosine(v, [w, v, w, v], 4).map(m => m.index), [1, 3, 0, 2])
    assert.deepEqual(rankByCosine(v, [new Float32Array(512)], 1), [{ index: 0, score: 0 }])
  })

  it('runs with any registered embedder', async () => {
    const small = new HashedNgramEmbedder({ dim: 64 })
    const kernel = semanticMatchKernel(embedderRegistry([small]))
    const payload = encodeSemanticMatchPayload({ model: small.id, tasks: ['hello'], candidates: ['hello there', 'bye'], k: 2 })
    assert.equal(decodeSemanticMatchOutput(await kernel.run(payload)).rankings[0]?.[0]?.index, 0)
    // A node without the model prices the task (size) but refuses to run it.
    assert.equal(SEMANTIC_MATCH_KERNEL.size(payload), 1)
    await assert.rejects(SEMANTIC_MATCH_KERNEL.run(payload), kernelError('ERR_KERNEL_BAD_PARAMETER'))
  })

  it('refuses every bad input with a precise code', async () => {
    const base = { model: MODEL, tasks: ['t'], candidates: ['a', 'b'], k: 1 }
    const raw = (over: Record<string, unknown>): Uint8Array => encodeCanonical({ ...base, ...over })
    const L = SEMANTIC_MATCH_LIMITS
    const cases: Array<[string, Uint8Array, string]> = [
      ['k = 0', raw({ k: 0 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['k > candidates', raw({ k: 3 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['negative k', raw({ k: -1 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['k not an integer', raw({ k: '1' }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['huge k', raw({ k: 2n ** 64n - 1n }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['no candidates', raw({ candidates: [] }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['no tasks', raw({ tasks: [] }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['too many candidates', raw({ candidates: Array(L.maxCandidates + 1).fill('c') }), 'ERR_KERNEL_PAYLOAD_TOO_LARGE'],
      ['too many tasks', raw({ tasks: Array(L.maxTasks + 1).fill('t') }), 'ERR_KERNEL_PAYLOAD_TOO_LARGE'],
      ['too long candidate', raw({ candidates: ['a', 'x'.repeat(L.maxTextBytes + 1)] }), 'ERR_KERNEL_PAYLOAD_TOO_LARGE'],
      ['too long task', raw({ tasks: ['x'.repeat(L.maxTextBytes + 1)] }), 'ERR_KERNEL_PAYLOAD_TOO_LARGE'],
      ['non-string candidate', raw({ candidates: ['a', 1] }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['task as a string', raw({ tasks: 't' }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['extra key', raw({ extra: true }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['missing key', encodeCanonical({ model: MODEL, tasks: ['t'], candidates: ['a'] }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['not CBOR', new Uint8Array([0x1C]), 'ERR_KERNEL_BAD_PAYLOAD']
    ]
    for (const [what, payload, c] of cases) {
      assert.throws(() => SEMANTIC_MATCH_KERNEL.size(payload), kernelError(c), what)
      await assert.rejects(SEMANTIC_MATCH_KERNEL.run(payload), kernelError(c), what)
    }
    assert.throws(() => encodeSemanticMatchPayload({ ...base, k: 5 }), kernelError('ERR_KERNEL_BAD_PARAMETER'))
    assert.deepEqual(decodeSemanticMatchPayload(encodeSemanticMatchPayload(base)), base)
  })

  describe('decodeSemanticMatchOutput()', () => {
    it('refuses outputs the kernel cannot have written', () => {
      const out = (rankings: unknown): Uint8Array => encodeCanonical({ rankings })
      const bad = [
        out([]),
        out([[]]),
        out([[{ index: 0, score: 5 }, { index: 1, score: 6 }]]), // ascending
        out([[{ index: 1, score: 5 }, { index: 0, score: 5 }]]), // tie not by index
        out([[{ index: 0, score: 5 }, { index: 0, score: 4 }]]), // duplicate
        out([[{ index: 0, score: 1_000_001 }]]),
        out([[{ index: -1, score: 0 }]]),
        out([[{ index: 256, score: 0 }]]),
        out([[{ index: 0, score: 0 }], [{ index: 0, score: 0 }, { index: 1, score: 0 }]]), // ragged
        out([[{ index: 0 }]]),
        encodeCanonical({ rankings: [[{ index: 0, score: 0 }]], extra: 1 })
      ]
      for (const b of bad) assert.throws(() => decodeSemanticMatchOutput(b), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      assert.deepEqual(decodeSemanticMatchOutput(encodeSemanticMatchOutput({ rankings: [[{ index: 3, score: -7 }]] })), { rankings: [[{ index: 3, score: -7 }]] })
    })
  })

  describe('agree()', () => {
    const out = (...rankings: Array<Array<[number, number]>>): Uint8Array =>
      encodeSemanticMatchOutput({ rankings: rankings.map(r => r.map(([index, score]) => ({ index, score }))) })
    const agree = SEMANTIC_MATCH_KERNEL.agree

    it('agrees on identical runs', async () => {
      const payload = encodeSemanticMatchPayload({ model: MODEL, tasks: ['a b', 'c'], candidates: ['a', 'b', 'c d'], k: 2 })
      assert.ok(agree(await SEMANTIC_MATCH_KERNEL.run(payload), await SEMANTIC_MATCH_KERNEL.run(payload)))
    })

    it('tolerates scores within 100 ppm and near ties swapped or cut', () => {
      assert.ok(agree(out([[4, 900_000], [2, 500_000]]), out([[4, 900_050], [2, 499_950]])))
      // Two nearly equal candidates in the other order.
      assert.ok(agree(out([[4, 900_000], [2, 899_990], [7, 100]]), out([[2, 900_000], [4, 899_990], [7, 100]])))
      // A near tie at the cut: a different last candidate.
      assert.ok(agree(out([[4, 900_000], [2, 500_000]]), out([[4, 900_000], [9, 499_960]])))
    })

    it('disagrees on a different ranking, a score off by more than 100 ppm, or another shape', () => {
      assert.equal(agree(out([[4, 900_000], [2, 500_000]]), out([[2, 900_000], [4, 500_000]])), false)
      assert.equal(agree(out([[4, 900_000]]), out([[4, 900_101]])), false)
      assert.equal(agree(out([[4, 900_000], [2, 500_000]]), out([[4, 900_000], [9, 499_800]])), false)
      assert.equal(agree(out([[4, 900_000], [2, 500_000]]), out([[4, 900_000]])), false)
      assert.equal(agree(out([[4, 900_000]]), out([[4, 900_000]], [[4, 900_000]])), false)
      assert.equal(agree(out([[4, 900_000]]), new Uint8Array([0xA0])), false)
      assert.equal(agree(new Uint8Array(0), new Uint8Array(0)), false)
    })

    it('is symmetric (property)', () => {
      const ranking = fc.uniqueArray(fc.nat(30), { minLength: 3, maxLength: 3 }).chain(ix =>
        fc.array(fc.integer({ min: -200, max: 200 }), { minLength: 3, maxLength: 3 }).map(deltas =>
          ix.map((index, r) => [index, 900_000 - r * 150 + (deltas[r] as number)] as [number, number])
            .sort((a, b) => b[1] - a[1] || a[0] - b[0])))
      check(fc.property(ranking, ranking, (a, b) => {
        assert.equal(agree(out(a), out(b)), agree(out(b), out(a)))
      }))
    })
  })
})
