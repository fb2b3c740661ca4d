import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { HnswIndex, HNSW_LIMITS } from '../../../src/core/kernels/hnsw.ts'
import type { HnswMetric, HnswParams } from '../../../src/core/kernels/hnsw.ts'
import { HnswHeap } from '../../../src/core/kernels/hnsw-heap.ts'
import { VectorArena, wasmSimdAvailable } from '../../../src/core/kernels/hnsw-distance.ts'
import { KernelError } from '../../../src/core/kernels/errors.ts'
import { prng } from '../../helpers/fixtures.ts'
import { check } from '../../helpers/property.ts'
import { kernelError } from './helpers.ts'

const METRICS: HnswMetric[] = ['l2', 'cosine', 'dot']

/** Seeded Gaussian clusters (mulberry32 + Box-Muller): 20 centres, unit noise. */
function clustered (n: number, dim: number, s: number): Float32Array {
  const next = prng(s)
  // In (0, 1), never 0: half a step above mulberry32's k / 2^32 (exact in a double), for log(u).
  const u = (): number => next() + 2 ** -33
  const g = (): number => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())
  const centres = Array.from({ length: 20 }, () => Array.from({ length: dim }, () => 3 * g()))
  const out = new Float32Array(n * dim)
  for (let i = 0; i < n; i++) {
    const c = centres[Math.floor(u() * 20)] as number[]
    for (let j = 0; j < dim; j++) out[i * dim + j] = (c[j] as number) + g()
  }
  return out
}

function trueDistance (metric: HnswMetric, a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let dot = 0; let na = 0; let nb = 0; let l2 = 0
  for (let j = 0; j < dim; j++) {
    const x = a[ao + j] as number; const y = b[bo + j] as number
    dot += x * y; na += x * x; nb += y * y; l2 += (x - y) * (x - y)
  }
  if (metric === 'l2') return l2
  if (metric === 'dot') return 1 - dot
  return na === 0 || nb === 0 ? 1 : 1 - dot / Math.sqrt(na * nb)
}

function build (metric: HnswMetric, data: Float32Array, n: number, dim: number, s = 7, M = 16, efConstruction = 100): HnswIndex {
  const index = HnswIndex.create({ dim, M, efConstruction, metric, seed: s })
  for (let i = 0; i < n; i++) index.add(data, i * dim)
  return index
}

describe('kernels/hnsw', () => {
  const n = 2000; const dim = 32; const nq = 100
  // Queries come from the same clusters as the data (not inserted): in-distribution, as in use.
  const all = clustered(n + nq, dim, 11)
  const data = all.subarray(0, n * dim)
  const queries = all.slice(n * dim)
  const built = new Map<HnswMetric, HnswIndex>()
  for (const metric of METRICS) built.set(metric, build(metric, data, n, dim))

  describe('search()', () => {
    for (const metric of METRICS) {
      it(`reaches recall@10 >= 0.95 against brute force (${metric}, 2k × 32, efSearch 64)`, () => {
        const index = built.get(metric) as HnswIndex
        let hits = 0
        for (let q = 0; q < nq; q++) {
          const all = Array.from({ length: n }, (_, i) => [trueDistance(metric, data, i * dim, queries, q * dim, dim), i] as const)
          all.sort((a, b) => a[0] - b[0] || a[1] - b[1])
          const truth = new Set(all.slice(0, 10).map(x => x[1]))
          for (const id of index.search(queries, 10, 64, q * dim).ids) if (truth.has(id)) hits++
        }
        const recall = hits / (nq * 10)
        assert.ok(recall >= 0.95, `recall@10 ${recall} < 0.95 for ${metric}`)
      })
    }

    it('returns sorted results with exact distances (property)', () => {
      check(fc.property(
        fc.constantFrom(...METRICS),
        fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: dim, maxLength: dim }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 200 }),
        (metric, qv, k, ef) => {
          const index = built.get(metric) as HnswIndex
          const q = Float32Array.from(qv)
          const res = index.search(q, k, ef)
          assert.equal(res.ids.length, k)
          assert.equal(new Set(res.ids).size, k)
          for (let i = 0; i < k; i++) {
            if (i > 0) assert.ok((res.distances[i - 1] as number) <= (res.distances[i] as number), 'not sorted')
            const want = trueDistance(metric, q, 0, data, (res.ids[i] as number) * dim, dim)
            assert.ok(Math.abs(want - (res.distances[i] as number)) <= 1e-5 * Math.max(1, Math.abs(want)), `distance ${String(res.distances[i])} != ${want}`)
          }
        }), 60)
    })

    it('finds an exact stored vector at distance ~0 (l2, cosine)', () => {
      for (const metric of ['l2', 'cosine'] as const) {
        const res = (built.get(metric) as HnswIndex).search(data, 1, 32, 123 * dim)
        assert.equal(res.ids[0], 123)
        assert.ok(Math.abs(res.distances[0] as number) < 1e-6)
      }
    })

    it('returns fewer than k on a small index and nothing on an empty one', () => {
      const index = HnswIndex.create({ dim: 2, M: 4, efConstruction: 10, metric: 'l2', seed: 1 })
      assert.equal(index.search(new Float32Array(2), 5, 10).ids.length, 0)
      index.add(new Float32Array([1, 1])); index.add(new Float32Array([2, 2]))
      const res = index.search(new Float32Array([2, 2.1]), 5, 10)
      assert.deepEqual([...res.ids], [1, 0])
    })

    it('treats a zero vector under cosine as distance 1', () => {
      const index = HnswIndex.create({ dim: 2, M: 4, efConstruction: 10, metric: 'cosine', seed: 1 })
      index.add(new Float32Array([0, 0]))
      assert.equal(index.search(new Float32Array([1, 0]), 1, 10).distances[0], 1)
    })
  })

  describe('determinism', () => {
    it('builds byte-identical indexes from the same vectors, order and seed', () => {
      for (const metric of METRICS) {
        const a = build(metric, data, 500, dim, 99).serialize()
        const b = build(metric, data, 500, dim, 99).serialize()
        assert.deepEqual(a, b)
      }
    })

    it('builds a different index with a different seed', () => {
      assert.notDeepEqual(build('l2', data, 500, dim, 1).serialize(), build('l2', data, 500, dim, 2).serialize())
    })

    it('continues identically after a serialize / deserialize in the middle', () => {
      const whole = build('cosine', data, 600, dim, 5)
      const half = HnswIndex.deserialize(build('cosine', data, 300, dim, 5).serialize())
      for (let i = 300; i < 600; i++) half.add(data, i * dim)
      assert.deepEqual(half.serialize(), whole.serialize())
    })
  })

  describe('serialize() / deserialize()', () => {
    it('round-trips exactly, and the copy answers the same', () => {
      for (const metric of METRICS) {
        const index = built.get(metric) as HnswIndex
        const bytes = index.serialize()
        const copy = HnswIndex.deserialize(bytes)
        assert.deepEqual(copy.serialize(), bytes)
        assert.equal(copy.size, n)
        assert.deepEqual(copy.params, index.params)
        assert.deepEqual(copy.search(queries, 10, 50, 0), index.search(queries, 10, 50, 0))
      }
      const empty = HnswIndex.create({ dim: 3, M: 8, efConstruction: 20, metric: 'dot', seed: 0 })
      assert.deepEqual(HnswIndex.deserialize(empty.serialize()).serialize(), empty.serialize())
    })

    const small = build('l2', data, 50, dim, 3, 4, 20).serialize()
    const mutate = (f: (b: Uint8Array, v: DataView) => void): Uint8Array => {
      const b = small.slice(); f(b, new DataView(b.buffer)); return b
    }
    const linkStart = 48 + 50 * dim * 4 + 50

    const cases: Array<[string, Uint8Array]> = [
      ['empty input', new Uint8Array(0)],
      ['short header', small.subarray(0, 20)],
      ['bad magic', mutate(b => { b[0] = 0x58 })],
      ['bad version', mutate(b => { b[4] = 2 })],
      ['unknown metric', mutate(b => { b[5] = 9 })],
      ['reserved byte set', mutate(b => { b[7] = 1 })],
      ['dim 0', mutate((_, v) => v.setUint32(8, 0, true))],
      ['M 1', mutate((_, v) => v.setUint32(12, 1, true))],
      ['count too big for the bytes', mutate((_, v) => v.setUint32(40, 51, true))],
      ['entry out of range', mutate((_, v) => v.setUint32(44, 50, true))],
      ['maxLevel inconsistent', mutate(b => { b[6] = (b[6] as number) + 1 })],
      ['NaN vector value', mutate((_, v) => v.setFloat32(48, NaN, true))],
      ['Infinity vector value', mutate((_, v) => v.setFloat32(52, Infinity, true))],
      ['level over the cap', mutate(b => { b[48 + 50 * dim * 4] = 200 })],
      ['neighbour out of range', mutate((_, v) => v.setUint32(linkStart + 1, 50, true))],
      ['neighbour is itself', mutate((_, v) => v.setUint32(linkStart + 1, 0, true))],
      ['too many neighbours', mutate(b => { b[linkStart] = 9 })],
      ['truncated', small.subarray(0, small.length - 3)],
      ['trailing bytes', new Uint8Array([...small, 0])]
    ]
    for (const [name, bytes] of cases) {
      it(`rejects ${name} with ERR_KERNEL_BAD_PAYLOAD`, () => {
        assert.throws(() => HnswIndex.deserialize(bytes), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      })
    }

    it('rejects a duplicated neighbour and a neighbour not on the layer', () => {
      const index = HnswIndex.deserialize(small)
      // Find a node with >= 2 layer-0 neighbours: the first has them in a 50-node graph.
      const dup = mutate((b, v) => { assert.ok((b[linkStart] as number) >= 2); v.setUint32(linkStart + 5, v.getUint32(linkStart + 1, true), true) })
      assert.throws(() => HnswIndex.deserialize(dup), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      assert.equal(index.size, 50)
      // A layer-0-only graph with one node claiming a level: its upper list points at a level-0 node.
      const flat = HnswIndex.create({ dim: 1, M: 2, efConstruction: 4, metric: 'l2', seed: 0 })
      let s = 0
      while (flat.size < 40) flat.add(new Float32Array([s++]))
      const bytes = flat.serialize()
      const view = new DataView(bytes.buffer)
      const lv = 48 + 40 * 4
      const lowId = Array.from(bytes.subarray(lv, lv + 40)).findIndex(l => l === 0)
      const highId = Array.from(bytes.subarray(lv, lv + 40)).findIndex(l => l > 0)
      assert.ok(lowId >= 0 && highId >= 0)
      // Walk to highId's layer-1 list and point its first entry (if any) at lowId.
      let p = lv + 40
      for (let i = 0; i < highId; i++) for (let l = 0; l <= (bytes[lv + i] as number); l++) p += 1 + 4 * (bytes[p] as number)
      p += 1 + 4 * (bytes[p] as number)
      if ((bytes[p] as number) > 0) {
        view.setUint32(p + 1, lowId, true)
        assert.throws(() => HnswIndex.deserialize(bytes), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      }
    })

    it('never crashes on random byte flips (property)', () => {
      check(fc.property(fc.integer({ min: 0, max: small.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const b = small.slice(); b[at] = (b[at] as number) ^ x
        try { HnswIndex.deserialize(b).search(new Float32Array(dim), 5, 10) } catch (err) { assert.ok(err instanceof KernelError, String(err)) }
      }), 300)
    })
  })

  describe('bad input', () => {
    const ok: HnswParams = { dim: 4, M: 8, efConstruction: 20, metric: 'l2', seed: 1 }
    const badParams: Array<[string, HnswParams]> = [
      ['dim 0', { ...ok, dim: 0 }], ['dim over the limit', { ...ok, dim: HNSW_LIMITS.maxDim + 1 }], ['dim 2.5', { ...ok, dim: 2.5 }],
      ['M 1', { ...ok, M: 1 }], ['M 101', { ...ok, M: 101 }], ['efConstruction 0', { ...ok, efConstruction: 0 }],
      ['efConstruction over the limit', { ...ok, efConstruction: 5000 }], ['negative seed', { ...ok, seed: -1 }],
      ['seed over uint32', { ...ok, seed: 2 ** 32 }], ['unknown metric', { ...ok, metric: 'manhattan' as HnswMetric }]
    ]
    for (const [name, params] of badParams) {
      it(`refuses ${name} with ERR_KERNEL_BAD_PARAMETER`, () => { assert.throws(() => HnswIndex.create(params), kernelError('ERR_KERNEL_BAD_PARAMETER')) })
    }

    it('refuses wrong dimensions, non-finite values, and bad k / efSearch, leaving the index unchanged', () => {
      const index = HnswIndex.create(ok)
      index.add(new Float32Array([1, 2, 3, 4]))
      const before = index.serialize()
      assert.throws(() => index.add(new Float32Array(3)), kernelError('ERR_KERNEL_DIMENSION_MISMATCH'))
      assert.throws(() => index.add(new Float32Array([1, NaN, 0, 0])), kernelError('ERR_KERNEL_NON_FINITE'))
      assert.throws(() => index.add(new Float32Array([1, 0, Infinity, 0])), kernelError('ERR_KERNEL_NON_FINITE'))
      assert.throws(() => index.add(new Float32Array([1, 0, 2e15, 0])), kernelError('ERR_KERNEL_NON_FINITE'))
      assert.throws(() => index.search(new Float32Array(5), 1, 10), kernelError('ERR_KERNEL_DIMENSION_MISMATCH'))
      assert.throws(() => index.search(new Float32Array([0, 0, 0, -Infinity]), 1, 10), kernelError('ERR_KERNEL_NON_FINITE'))
      assert.throws(() => index.search(new Float32Array(4), 0, 10), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.throws(() => index.search(new Float32Array(4), HNSW_LIMITS.maxK + 1, 10), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.throws(() => index.search(new Float32Array(4), 1, 0), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.throws(() => index.search(new Float32Array(4), 1, HNSW_LIMITS.maxEf + 1), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.deepEqual(index.serialize(), before)
    })
  })

  describe('VectorArena', () => {
    it('runs the WebAssembly SIMD path on this engine', () => { assert.equal(wasmSimdAvailable(), true) })

    it('computes bit-identical distances with WebAssembly and the JavaScript emulation (property)', () => {
      check(fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.constantFrom('l2' as const, 'ip' as const),
        fc.array(fc.float({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }), { minLength: 140, maxLength: 140 }),
        (dim, kind, values) => {
          const src = Float32Array.from(values)
          const wasm = new VectorArena(dim, kind, true); const js = new VectorArena(dim, kind, false)
          for (const a of [wasm, js]) { a.ensure(3); a.write(1, src, 0, 1); a.write(2, src, 70, 0.37) }
          assert.ok(Object.is(wasm.distance(1, 2), js.distance(1, 2)), `${wasm.distance(1, 2)} vs ${js.distance(1, 2)}`)
          assert.ok(Object.is(wasm.distance(2, 2), js.distance(2, 2)))
        }), 200)
    })
  })

  describe('HnswHeap', () => {
    it('pops in descending key order (property)', () => {
      check(fc.property(fc.array(fc.double({ noNaN: true }), { maxLength: 300 }), keys => {
        const h = new HnswHeap()
        keys.forEach((k, i) => h.push(k, i))
        const out: number[] = []
        while (h.size > 0) { const k = h.topKey(); h.pop(); out.push(k) }
        assert.deepEqual(out, [...keys].sort((a, b) => b - a))
      }), 100)
    })
  })
})
