/**
 * The compression kernel: hand-computed int8 / int4 / binary cases, the S/2 error bound and the
 * packing as seeded properties, the reported error, round trips through the kernel, bad input and
 * the exact-bytes comparator.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { check } from '../../helpers/property.ts'
import { kernelError } from './helpers.ts'
import { encodeCanonical } from '../../../src/core/codec/index.ts'
import { floatsToBytes } from '../../../src/core/kernels/floats.ts'
import {
  compressionKernel, quantize, dequantize, encodeQuantizePayload, encodeDequantizePayload,
  decodeQuantizeOutput, decodeDequantizeOutput, MAX_COMPRESSION_MAGNITUDE
} from '../../../src/core/kernels/compression.ts'
import type { QuantizeBits, QuantizedVectors } from '../../../src/core/kernels/compression.ts'

/** Unpack vector v's code j, independently of the kernel's packing loop. */
function codeAt (q: QuantizedVectors, v: number, j: number): number {
  const bpv = Math.ceil(q.dim * q.bits / 8)
  const bitPos = j * q.bits
  const byte = q.codes[v * bpv + Math.floor(bitPos / 8)] as number
  return (byte >> (bitPos % 8)) & (2 ** q.bits - 1)
}

// Ordinary magnitudes, tiny ones (subnormal ranges, where the scale is floored) and huge ones.
const f32 = fc.oneof(
  { arbitrary: fc.float({ min: -1e6, max: 1e6, noNaN: true }), weight: 4 },
  { arbitrary: fc.float({ min: Math.fround(-1e-36), max: Math.fround(1e-36), noNaN: true }), weight: 1 },
  { arbitrary: fc.float({ min: -(2 ** 60), max: 2 ** 60, noNaN: true }), weight: 1 }
)
const arbInput = fc.integer({ min: 1, max: 19 }).chain(dim => fc.record({
  dim: fc.constant(dim),
  values: fc.array(f32, { minLength: dim, maxLength: dim * 6 }).map(a => a.slice(0, a.length - a.length % dim)),
  perVector: fc.boolean(),
  bits: fc.constantFrom<QuantizeBits>(8, 4, 1)
}))

describe('kernels', () => {
  describe('compression', () => {
    describe('quantize()', () => {
      it('int8: matches a hand-computed case (S = 0.25, Z = 10, ties to even)', () => {
        const q = quantize({ bits: 8, dim: 6, vectors: new Float32Array([-2.5, 0, 0.5, 0.625, 0.875, 61.25]) })
        assert.deepEqual(Array.from(q.scales), [0.25])
        assert.deepEqual(Array.from(q.zeroPoints), [10])
        // 0.625 / 0.25 = 2.5 rounds to 2 (even), 0.875 / 0.25 = 3.5 rounds to 4 (even)
        assert.deepEqual(Array.from(q.codes), [0, 10, 12, 12, 14, 255])
        assert.equal(q.error.maxAbs, 0.125)
        assert.equal(q.error.mse, Math.fround((0.125 ** 2 * 2) / 6))
        assert.deepEqual(Array.from(dequantize(q)), [-2.5, 0, 0.5, 0.5, 1, 61.25])
      })

      it('int4: matches a hand-computed case and packs two codes per byte, low nibble first', () => {
        const q = quantize({ bits: 4, dim: 5, vectors: new Float32Array([-1.5, 0, 0.25, 0.75, 6]) })
        assert.deepEqual(Array.from(q.scales), [0.5])
        assert.deepEqual(Array.from(q.zeroPoints), [3])
        // codes 0, 3, 3, 5, 15 -> bytes 0x30, 0x53, 0x0f (the last nibble is zero padding)
        assert.deepEqual(Array.from(q.codes), [0x30, 0x53, 0x0f])
        assert.deepEqual(Array.from(dequantize(q)), [-1.5, 0, 0, 1, 6])
      })

      it('binary: one sign bit per element, least significant first, scale = mean |x|', () => {
        const q = quantize({ bits: 1, dim: 9, vectors: new Float32Array([1, -2, 3, -4, 0, 0.5, -0.5, 2, 1]) })
        assert.deepEqual(Array.from(q.codes), [0b10110101, 0b00000001])
        assert.deepEqual(Array.from(q.scales), [Math.fround(14 / 9)])
        assert.equal(q.zeroPoints.length, 0)
        const a = Math.fround(14 / 9)
        assert.deepEqual(Array.from(dequantize(q)), [a, -a, a, -a, a, a, -a, a, a])
      })

      it('keeps zero exact and maps an all-zero vector to scale 1, zero point 0', () => {
        const q = quantize({ bits: 8, dim: 3, vectors: new Float32Array([0, 0, 0, 3, 0, 7]) })
        assert.deepEqual(Array.from(q.scales.slice(0, 1)), [1])
        assert.deepEqual(Array.from(q.zeroPoints), [0, 0])
        assert.deepEqual(Array.from(dequantize(q)).filter((_, i) => i === 0 || i === 4), [0, 0])
      })

      it('per tensor uses one scale for all vectors, per vector one each', () => {
        const vectors = new Float32Array([1, 2, 3, 100, 200, 300])
        assert.equal(quantize({ bits: 8, dim: 3, vectors, perVector: false }).scales.length, 1)
        const per = quantize({ bits: 8, dim: 3, vectors })
        assert.equal(per.scales.length, 2)
        assert.ok(per.error.maxAbs <= quantize({ bits: 8, dim: 3, vectors, perVector: false }).error.maxAbs)
      })

      it('int8 and int4: every element is within scale/2 (plus float32 rounding) of its reconstruction', () => {
        check(fc.property(arbInput, ({ dim, values, perVector, bits }) => {
          if (values.length === 0 || bits === 1) return
          const vectors = new Float32Array(values)
          const q = quantize({ bits, dim, vectors, perVector })
          const back = dequantize(q)
          const qmax = 2 ** bits - 1
          for (let i = 0; i < vectors.length; i++) {
            const v = Math.floor(i / dim)
            const s = q.scales[perVector ? v : 0] as number
            const x = vectors[i] as number
            // S/2, plus S·qmax·2^-24 for S rounded down to float32, plus half an ulp of the reconstruction.
            const bound = s / 2 + s * qmax * 2 ** -24 + Math.abs(x) * 2 ** -24 + 2 ** -149
            assert.ok(Math.abs(x - (back[i] as number)) <= bound, `element ${i}: |${x} - ${back[i]}| > ${bound} (S = ${s})`)
          }
        }), 300)
      })

      it('codes are the clamped rounded values, packed as documented, padding zero; the reported error is the reconstruction\'s', () => {
        check(fc.property(arbInput, ({ dim, values, perVector, bits }) => {
          if (values.length === 0) return
          const vectors = new Float32Array(values)
          const q = quantize({ bits, dim, vectors, perVector })
          const back = dequantize(q)
          const bpv = Math.ceil(dim * bits / 8)
          assert.equal(q.codes.length, q.count * bpv)
          let sumSq = 0
          let maxAbs = 0
          for (let i = 0; i < vectors.length; i++) {
            const v = Math.floor(i / dim)
            const j = i % dim
            const g = perVector ? v : 0
            const x = vectors[i] as number
            const code = codeAt(q, v, j)
            if (bits === 1) {
              assert.equal(code, x >= 0 ? 1 : 0)
            } else {
              const s = q.scales[g] as number
              const z = q.zeroPoints[g] as number
              const t = x / s
              const r = Math.abs(t - Math.trunc(t)) === 0.5 ? 2 * Math.round(t / 2) : Math.round(t)
              assert.equal(code, Math.min(2 ** bits - 1, Math.max(0, r + z)))
            }
            const d = Math.abs(x - (back[i] as number))
            sumSq += d * d
            maxAbs = Math.max(maxAbs, d)
          }
          for (let v = 0; v < q.count; v++) {
            const usedBits = (dim * bits) % 8
            if (usedBits !== 0) assert.equal((q.codes[v * bpv + bpv - 1] as number) >> usedBits, 0)
          }
          assert.equal(q.error.maxAbs, Math.fround(maxAbs))
          assert.equal(q.error.mse, Math.fround(sumSq / vectors.length))
        }), 300)
      })
    })

    describe('kernel', () => {
      it('runs quantize then dequantize, sizes both by the float32 bytes, and agrees with itself', async () => {
        const vectors = new Float32Array(Array.from({ length: 40 }, (_, i) => Math.sin(i) * 3))
        for (const bits of [8, 4, 1] as const) {
          const payload = encodeQuantizePayload({ bits, dim: 10, vectors })
          assert.equal(compressionKernel.size(payload), 160)
          const a = await compressionKernel.run(payload)
          const b = await compressionKernel.run(payload)
          assert.ok(compressionKernel.agree(a, b))
          const q = decodeQuantizeOutput(a)
          assert.deepEqual(q, quantize({ bits, dim: 10, vectors }))
          const deq = encodeDequantizePayload(q)
          assert.equal(compressionKernel.size(deq), 160)
          const out = decodeDequantizeOutput(await compressionKernel.run(deq))
          assert.equal(out.count, 4)
          assert.deepEqual(out.vectors, dequantize(q))
          const deqOut = await compressionKernel.run(deq)
          assert.ok(compressionKernel.agree(deqOut, deqOut.slice()))
          assert.equal(compressionKernel.agree(a, deqOut), false)
        }
      })

      it('agree() is exact bytes, and false for malformed outputs', async () => {
        const a = await compressionKernel.run(encodeQuantizePayload({ bits: 8, dim: 2, vectors: new Float32Array([1, 2]) }))
        const b = await compressionKernel.run(encodeQuantizePayload({ bits: 8, dim: 2, vectors: new Float32Array([1, 2.001]) }))
        assert.equal(compressionKernel.agree(a, b), false)
        for (const junk of [new Uint8Array(0), new Uint8Array([0xa0]), encodeCanonical({ count: 1 })]) {
          assert.equal(compressionKernel.agree(junk, junk), false)
          assert.equal(compressionKernel.agree(a, junk), false)
        }
      })

      it('refuses NaN and ±Infinity with ERR_KERNEL_NON_FINITE', () => {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const payload = encodeCanonical({ op: 'quantize', bits: 8, dim: 2, vectors: floatsToBytes(new Float32Array([1, bad])) })
          assert.throws(() => compressionKernel.size(payload), kernelError('ERR_KERNEL_NON_FINITE'))
          const deq = encodeCanonical({ op: 'dequantize', bits: 8, dim: 1, perVector: true, codes: new Uint8Array([1]), scales: floatsToBytes(new Float32Array([bad])), zeroPoints: floatsToBytes(new Float32Array([0])) })
          assert.throws(() => compressionKernel.size(deq), kernelError('ERR_KERNEL_NON_FINITE'))
        }
      })

      it('refuses mismatched dimensions with ERR_KERNEL_DIMENSION_MISMATCH', async () => {
        const q = quantize({ bits: 4, dim: 3, vectors: new Float32Array([1, 2, 3, 4, 5, 6]) })
        const cases = [
          encodeCanonical({ op: 'quantize', bits: 8, dim: 3, vectors: floatsToBytes(new Float32Array(4)) }),
          encodeCanonical({ op: 'quantize', bits: 8, dim: 3, vectors: new Uint8Array(0) }),
          encodeDequantizePayload({ ...q, codes: q.codes.subarray(0, 3) }),
          encodeDequantizePayload({ ...q, scales: q.scales.subarray(0, 1) }),
          encodeDequantizePayload({ ...q, zeroPoints: new Float32Array(3) }),
          encodeDequantizePayload({ ...q, perVector: false })
        ]
        for (const p of cases) {
          assert.throws(() => compressionKernel.size(p), kernelError('ERR_KERNEL_DIMENSION_MISMATCH'))
          await assert.rejects(compressionKernel.run(p), kernelError('ERR_KERNEL_DIMENSION_MISMATCH'))
        }
      })

      it('refuses bad parameters and malformed payloads', () => {
        const v = floatsToBytes(new Float32Array([1, 2]))
        const q = quantize({ bits: 8, dim: 2, vectors: new Float32Array([1, 2]) })
        const param = [
          encodeCanonical({ op: 'quantize', bits: 2, dim: 2, vectors: v }),
          encodeCanonical({ op: 'quantize', bits: 8, dim: 0, vectors: v }),
          encodeCanonical({ op: 'quantize', bits: 8, dim: 2, vectors: floatsToBytes(new Float32Array([1, MAX_COMPRESSION_MAGNITUDE * 2])) }),
          encodeDequantizePayload({ ...q, zeroPoints: new Float32Array([256]) }),
          encodeDequantizePayload({ ...q, zeroPoints: new Float32Array([1.5]) }),
          encodeDequantizePayload({ ...q, scales: new Float32Array([-1]) })
        ]
        for (const p of param) assert.throws(() => compressionKernel.size(p), kernelError('ERR_KERNEL_BAD_PARAMETER'))
        const q4 = quantize({ bits: 4, dim: 3, vectors: new Float32Array([1, 2, 3]) })
        const padded = q4.codes.slice()
        padded[1] = (padded[1] as number) | 0x10
        const payload = [
          encodeCanonical({ op: 'quantize', bits: 8, dim: 2 }),
          encodeCanonical({ op: 'quantize', bits: 8, dim: 2, vectors: v, perVector: 1 }),
          encodeCanonical({ op: 'quantize', bits: 8, dim: 2, vectors: v, extra: true }),
          encodeCanonical({ op: 'zip', bits: 8, dim: 2, vectors: v }),
          encodeCanonical({ op: 'quantize', bits: 8, dim: 2, vectors: new Uint8Array(7) }),
          encodeDequantizePayload({ ...q4, codes: padded }),
          new Uint8Array([0x01])
        ]
        for (const p of payload) assert.throws(() => compressionKernel.size(p), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
        assert.throws(() => compressionKernel.size(encodeCanonical({ op: 'quantize', bits: 8, dim: 70_000, vectors: v })), kernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE'))
      })
    })
  })
})
