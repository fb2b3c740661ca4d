import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  vectorInsertKernel, vectorSearchKernel, encodeVectorInsertPayload, decodeVectorInsertOutput,
  encodeVectorSearchPayload, decodeVectorSearchOutput, VECTOR_LIMITS
} from '../../../src/core/kernels/vector.ts'
import { HnswIndex } from '../../../src/core/kernels/hnsw.ts'
import type { HnswParams } from '../../../src/core/kernels/hnsw.ts'
import { check } from '../../helpers/property.ts'
import { kernelError } from './helpers.ts'
import { floatsToBytes } from '../../../src/core/kernels/floats.ts'
import { encodeCanonical } from '../../../src/core/codec/index.ts'

function randomVectors (n: number, dim: number, s: number): Float32Array {
  let state = s >>> 0
  return Float32Array.from({ length: n * dim }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 31 - 1
  })
}

const dim = 8
const params: HnswParams = { dim, M: 8, efConstruction: 50, metric: 'cosine', seed: 3 }
const vectors = randomVectors(300, dim, 1)

describe('kernels/vector', () => {
  describe('vector_insert', () => {
    it('builds an index, sized by vectors inserted, equal to a direct build', async () => {
      const payload = encodeVectorInsertPayload({ params, vectors, count: 300 })
      assert.equal(vectorInsertKernel.type, 'vector_insert')
      assert.equal(vectorInsertKernel.size(payload), 300)
      const out = decodeVectorInsertOutput(await vectorInsertKernel.run(payload))
      assert.equal(out.count, 300)
      const direct = HnswIndex.create(params)
      for (let i = 0; i < 300; i++) direct.add(vectors, i * dim)
      assert.deepEqual(out.index, direct.serialize())
    })

    it('inserts into an existing index, continuing as one build would', async () => {
      const first = decodeVectorInsertOutput(await vectorInsertKernel.run(encodeVectorInsertPayload({ params, vectors: vectors.slice(0, 100 * dim), count: 100 })))
      const second = await vectorInsertKernel.run(encodeVectorInsertPayload({ index: first.index, vectors: vectors.slice(100 * dim), count: 200 }))
      const whole = await vectorInsertKernel.run(encodeVectorInsertPayload({ params, vectors, count: 300 }))
      assert.deepEqual(second, whole)
      assert.equal(vectorInsertKernel.size(encodeVectorInsertPayload({ index: first.index, vectors: vectors.slice(100 * dim), count: 200 })), 200)
    })

    it('agree(): exact bytes of a valid output only', async () => {
      const out = await vectorInsertKernel.run(encodeVectorInsertPayload({ params, vectors: vectors.slice(0, 50 * dim), count: 50 }))
      const again = await vectorInsertKernel.run(encodeVectorInsertPayload({ params, vectors: vectors.slice(0, 50 * dim), count: 50 }))
      assert.equal(vectorInsertKernel.agree(out, again), true)
      const other = await vectorInsertKernel.run(encodeVectorInsertPayload({ params: { ...params, seed: 4 }, vectors: vectors.slice(0, 50 * dim), count: 50 }))
      assert.equal(vectorInsertKernel.agree(out, other), false)
      const garbage = encodeCanonical({ index: new Uint8Array([1, 2, 3]), count: 1 })
      assert.equal(vectorInsertKernel.agree(garbage, garbage.slice()), false)
      assert.equal(vectorInsertKernel.agree(new Uint8Array([0xff]), new Uint8Array([0xff])), false)
    })
  })

  describe('vector_search', () => {
    const index = HnswIndex.create(params)
    for (let i = 0; i < 300; i++) index.add(vectors, i * dim)
    const bytes = index.serialize()
    const queries = randomVectors(5, dim, 9)

    it('answers k nearest per query, sized index + queries × max(efSearch, k)', async () => {
      const payload = encodeVectorSearchPayload({ index: bytes, queries, k: 4, efSearch: 32 })
      assert.equal(vectorSearchKernel.type, 'vector_search')
      assert.equal(vectorSearchKernel.size(payload), 300 + 5 * 32)
      const out = decodeVectorSearchOutput(await vectorSearchKernel.run(payload))
      assert.equal(out.ids.length, 5)
      for (let q = 0; q < 5; q++) {
        const direct = index.search(queries, 4, 32, q * dim)
        assert.deepEqual([...(out.ids[q] as Uint32Array)], [...direct.ids])
        assert.deepEqual([...(out.distances[q] as Float32Array)], [...Float32Array.from(direct.distances)])
      }
    })

    it('agree(): same ids and distances within 1e-6 relative (property)', async () => {
      const out = await vectorSearchKernel.run(encodeVectorSearchPayload({ index: bytes, queries, k: 3, efSearch: 16 }))
      const parsed = decodeVectorSearchOutput(out)
      const rebuild = (ids: Uint32Array[], d: Float32Array[]): Uint8Array => encodeCanonical({ ids: ids.map(r => [...r]), distances: d.map(x => floatsToBytes(x)) })
      assert.equal(vectorSearchKernel.agree(out, rebuild(parsed.ids, parsed.distances)), true)
      check(fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2 }), fc.double({ min: -1e-3, max: 1e-3, noNaN: true }), (q, i, rel) => {
        const d = parsed.distances.map(x => x.slice())
        const row = d[q] as Float32Array
        const before = row[i] as number
        row[i] = before + rel * Math.max(1, Math.abs(before))
        const changed = Math.abs((row[i] as number) - before)
        const agrees = vectorSearchKernel.agree(out, rebuild(parsed.ids, d))
        if (changed <= 0.9e-6 * Math.max(1, Math.abs(before))) assert.equal(agrees, true)
        if (changed >= 1.1e-6 * Math.max(1, Math.abs(before), Math.abs(row[i] as number))) assert.equal(agrees, false)
      }), 200)
      const swapped = parsed.ids.map(r => r.slice()); (swapped[0] as Uint32Array).reverse()
      assert.equal(vectorSearchKernel.agree(out, rebuild(swapped, parsed.distances)), false)
      assert.equal(vectorSearchKernel.agree(out, rebuild(parsed.ids.slice(1), parsed.distances.slice(1))), false)
      assert.equal(vectorSearchKernel.agree(out, new Uint8Array([0xa0])), false)
    })
  })

  describe('bad input', () => {
    const index = HnswIndex.create({ ...params, metric: 'l2' })
    for (let i = 0; i < 20; i++) index.add(vectors, i * dim)
    const bytes = index.serialize()
    const q = randomVectors(1, dim, 2)
    const insert = (m: Record<string, unknown>): Uint8Array => encodeCanonical(m)
    const p = { dim, M: 8, efConstruction: 50, metric: 'l2', seed: 1 }
    const v = floatsToBytes(vectors.slice(0, 2 * dim))
    const nan = vectors.slice(0, 2 * dim); nan[3] = NaN

    const insertCases: Array<[string, Uint8Array, string]> = [
      ['not CBOR', new Uint8Array([0xff, 0x00]), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['not a map', encodeCanonical([1, 2]), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['unknown field', insert({ params: p, vectors: v, count: 2, extra: 1 }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['both index and params', insert({ index: bytes, params: p, vectors: v, count: 2 }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['neither index nor params', insert({ vectors: v, count: 2 }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['corrupt index', insert({ index: bytes.slice(0, 60), vectors: v, count: 2 }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['count as text', insert({ params: p, vectors: v, count: '2' }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['count 0', insert({ params: p, vectors: new Uint8Array(0), count: 0 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['count over the limit', insert({ params: p, vectors: v, count: 2_000_000 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['count not matching vectors', insert({ params: p, vectors: v, count: 3 }), 'ERR_KERNEL_DIMENSION_MISMATCH'],
      ['vectors of the wrong dim for the index', insert({ index: bytes, vectors: floatsToBytes(new Float32Array(2 * (dim + 1))), count: 2 }), 'ERR_KERNEL_DIMENSION_MISMATCH'],
      ['NaN in vectors', insert({ params: p, vectors: floatsToBytes(nan), count: 2 }), 'ERR_KERNEL_NON_FINITE'],
      ['vectors not whole floats', insert({ params: p, vectors: v.subarray(1), count: 2 }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['M 1', insert({ params: { ...p, M: 1 }, vectors: v, count: 2 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['efConstruction 0', insert({ params: { ...p, efConstruction: 0 }, vectors: v, count: 2 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['dim 0', insert({ params: { ...p, dim: 0 }, vectors: v, count: 2 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['unknown metric', insert({ params: { ...p, metric: 'hamming' }, vectors: v, count: 2 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['huge seed', insert({ params: { ...p, seed: 2 ** 40 }, vectors: v, count: 2 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['params with an unknown field', insert({ params: { ...p, ef: 3 }, vectors: v, count: 2 }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['an index that could outgrow the output limit', insert({ params: { ...p, dim: 4096, M: 100 }, vectors: v, count: 20_000 }), 'ERR_KERNEL_PAYLOAD_TOO_LARGE']
    ]
    for (const [name, payload, want] of insertCases) {
      it(`vector_insert refuses ${name} with ${want} (size and run)`, async () => {
        assert.throws(() => vectorInsertKernel.size(payload), kernelError(want))
        await assert.rejects(vectorInsertKernel.run(payload), kernelError(want))
      })
    }

    const search = (m: Record<string, unknown>): Uint8Array => encodeCanonical(m)
    const searchCases: Array<[string, Uint8Array, string]> = [
      ['missing index', search({ queries: floatsToBytes(q), k: 1, efSearch: 10 }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['raw vectors as index', search({ index: floatsToBytes(q), queries: floatsToBytes(q), k: 1, efSearch: 10 }), 'ERR_KERNEL_BAD_PAYLOAD'],
      ['k 0', search({ index: bytes, queries: floatsToBytes(q), k: 0, efSearch: 10 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['k over 1024', search({ index: bytes, queries: floatsToBytes(q), k: 1025, efSearch: 10 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['negative k', search({ index: bytes, queries: floatsToBytes(q), k: -1, efSearch: 10 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['efSearch 0', search({ index: bytes, queries: floatsToBytes(q), k: 1, efSearch: 0 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['efSearch over 4096', search({ index: bytes, queries: floatsToBytes(q), k: 1, efSearch: 4097 }), 'ERR_KERNEL_BAD_PARAMETER'],
      ['queries of the wrong dim', search({ index: bytes, queries: floatsToBytes(new Float32Array(dim + 1)), k: 1, efSearch: 10 }), 'ERR_KERNEL_DIMENSION_MISMATCH'],
      ['no queries', search({ index: bytes, queries: new Uint8Array(0), k: 1, efSearch: 10 }), 'ERR_KERNEL_DIMENSION_MISMATCH'],
      ['Infinity in a query', search({ index: bytes, queries: floatsToBytes(new Float32Array(dim).fill(Infinity)), k: 1, efSearch: 10 }), 'ERR_KERNEL_NON_FINITE'],
      ['too many queries', search({ index: bytes, queries: new Uint8Array((VECTOR_LIMITS.maxQueries + 1) * dim * 4), k: 1, efSearch: 10 }), 'ERR_KERNEL_PAYLOAD_TOO_LARGE']
    ]
    for (const [name, payload, want] of searchCases) {
      it(`vector_search refuses ${name} with ${want} (size and run)`, async () => {
        assert.throws(() => vectorSearchKernel.size(payload), kernelError(want))
        await assert.rejects(vectorSearchKernel.run(payload), kernelError(want))
      })
    }

    it('refuses a payload over the byte limit before decoding it', async () => {
      const huge = new Uint8Array(VECTOR_LIMITS.maxPayloadBytes + 1)
      assert.throws(() => vectorSearchKernel.size(huge), kernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE'))
      assert.throws(() => vectorInsertKernel.size(huge), kernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE'))
    })

    it('stops a run whose signal is already aborted', async () => {
      const payload = encodeVectorSearchPayload({ index: bytes, queries: q, k: 1, efSearch: 10 })
      await assert.rejects(vectorSearchKernel.run(payload, { signal: AbortSignal.abort() }))
    })
  })
})
