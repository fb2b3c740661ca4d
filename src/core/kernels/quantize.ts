/**
 * Adaptive quantization of float32 vectors to int8, int4 or binary codes, and back: the computation
 * of the `compression` kernel (compression.ts carries it on the wire).
 *
 * The schemes ("adaptive": every parameter comes from the data, per vector or per tensor):
 * - int8 / int4: asymmetric affine quantization, `r = S · (q − Z)` with unsigned codes
 *   q ∈ [0, 2^b − 1] (Jacob et al., "Quantization and Training of Neural Networks for Efficient
 *   Integer-Arithmetic-Only Inference", CVPR 2018, eq. 1), with PyTorch's min/max rule
 *   (`MinMaxObserver` + `quantize_per_tensor`): lo = min(min x, 0), hi = max(max x, 0),
 *   S = (hi − lo) / (2^b − 1), Z = clamp(−round(lo / S)), q = clamp(round(x / S) + Z), rounding
 *   half to even as PyTorch's nearbyint does. Zero is in the range so it is exactly representable
 *   (Jacob et al. §2.1), and every element's error is at most S/2 (plus float32 rounding of S and of
 *   the reconstruction). All-zero groups get S = 1, Z = 0; S is floored at 2^-126 (the least
 *   normal float32) so that x / S cannot overflow. Unlike PyTorch, x / S is a binary64 division,
 *   not a multiplication by a float32 1/S, so codes can differ from PyTorch's at exact ties.
 * - binary: one sign bit per element (1 for x >= 0, 0 below), reconstructed as ±α with α the mean of
 *   |x| over the group, the L1-optimal scale of XNOR-Net (Rastegari et al., ECCV 2016, §3.1). No
 *   zero point (`zeroPoints` is empty).
 * - Packing: each vector's codes start on a byte boundary (ceil(dim · bits / 8) bytes per vector,
 *   zero padding). int4: two per byte, element 2i in the low nibble (as ONNX INT4 packs). Binary:
 *   eight per byte, element 8i + j in bit j, least significant first (as Faiss's binary codes).
 *
 * Arithmetic, exactly (so that another implementation can match it bit for bit): min, max and
 * sums run left to right over the group's elements in binary64; S = fround((hi − lo) / (2^b − 1)),
 * Z = clamp(−roundEven(lo / S)), q = clamp(roundEven(x / S) + Z), x̂ = fround(S · (q − Z));
 * α = fround(Σ|x| / n), x̂ = ±α; mse = fround(Σ (x − x̂)² / N) and maxAbs = fround(max |x − x̂|) over
 * all N elements, vectors in order. These are IEEE-754 +, −, ×, ÷ and comparisons only, each
 * correctly rounded, and ECMAScript fixes binary64 semantics (no extended precision, no fused
 * multiply-add), so every conforming engine yields the same bits: that is why the kernel's
 * comparator may demand exact bytes. No transcendental function (exp, log: implementation-
 * approximated) is used.
 *
 * Limits: at most {@link MAX_COMPRESSION_BYTES} (64 MiB) of float32 input (quantize) or output
 * (dequantize), dim <= {@link MAX_COMPRESSION_DIM}, |x| <= {@link MAX_COMPRESSION_MAGNITUDE} (2^60,
 * so that the float32 mse cannot overflow).
 */
import { KernelError } from './errors.ts'

/** Code widths the kernel supports. @example QUANTIZE_BITS.includes(4) */
export const QUANTIZE_BITS = [8, 4, 1] as const

/** One of {@link QUANTIZE_BITS}. @example const b: QuantizeBits = 8 */
export type QuantizeBits = typeof QUANTIZE_BITS[number]

/** Largest float32 input (quantize) or output (dequantize): 64 MiB. @example MAX_COMPRESSION_BYTES === 67_108_864 */
export const MAX_COMPRESSION_BYTES = 64 * 1024 * 1024

/** Largest vector dimension. @example MAX_COMPRESSION_DIM === 65_536 */
export const MAX_COMPRESSION_DIM = 65_536

/**
 * Largest |value| quantize accepts: 2^60. Errors are then below 2^61 and squared errors below
 * 2^122, inside float32's range, so the float32 `mse` and every reconstruction stay finite.
 * @example MAX_COMPRESSION_MAGNITUDE === 2 ** 60
 */
export const MAX_COMPRESSION_MAGNITUDE = 2 ** 60

/** Least normal float32, the floor of a scale. */
const MIN_SCALE = 2 ** -126

/** What to quantize. @example quantize({ bits: 8, dim: 2, vectors: new Float32Array([0.5, -1]) }) */
export interface QuantizeInput {
  readonly bits: QuantizeBits
  readonly dim: number
  /** count × dim values, row-major. */
  readonly vectors: Float32Array
  /** One scale (and zero point) per vector (default) or one for the whole tensor. */
  readonly perVector?: boolean
}

/** Quantized vectors, with the reconstruction error. @example quantize(input).error.maxAbs */
export interface QuantizedVectors {
  readonly bits: QuantizeBits
  readonly dim: number
  readonly count: number
  readonly perVector: boolean
  /** count × ceil(dim · bits / 8) bytes. */
  readonly codes: Uint8Array
  /** count (perVector) or 1 scales. */
  readonly scales: Float32Array
  /** One per scale (integers in [0, 2^bits − 1]); empty for binary. */
  readonly zeroPoints: Float32Array
  /** Mean squared and largest absolute error of the reconstruction, as float32 values. */
  readonly error: { readonly mse: number, readonly maxAbs: number }
}

/** Dequantized vectors. @example decodeDequantizeOutput(out).vectors */
export interface DequantizedVectors {
  readonly dim: number
  readonly count: number
  readonly vectors: Float32Array
}

/** The quantized fields a dequantize task needs. */
export type DequantizeInput = Omit<QuantizedVectors, 'count' | 'error'>

/**
 * Round half to even (IEEE 754 roundTiesToEven, C's nearbyint), which PyTorch's quantizer uses;
 * `Math.round` rounds ties up.
 */
function roundEven (v: number): number {
  const r = Math.round(v)
  if (r - v !== 0.5) return r
  // A tie: Math.round went up; step back when that landed on an odd integer. `% 2` rather than
  // `& 1` so that ties beyond 2^31 are right too (ties are rare, so the cost is too).
  return r % 2 !== 0 ? r - 1 : r
}

/** Bytes of one vector's codes. @example bytesPerVector(5, 4) === 3 */
export function bytesPerVector (dim: number, bits: QuantizeBits): number {
  return Math.ceil(dim * bits / 8)
}

/**
 * Quantize vectors (the kernel's computation, exposed for clients and tests).
 *
 * @example
 * const q = quantize({ bits: 8, dim: 128, vectors })
 * q.codes.length === vectors.length; q.error.maxAbs <= Math.max(...q.scales) / 2
 */
export function quantize (input: QuantizeInput): QuantizedVectors {
  const { bits, dim, vectors } = input
  const perVector = input.perVector ?? true
  checkShape(bits, dim)
  if (vectors.length === 0 || vectors.length % dim !== 0) {
    throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `vectors: ${vectors.length} values is not a positive multiple of dim ${dim}`)
  }
  const count = vectors.length / dim
  const groups = perVector ? count : 1
  const groupSize = perVector ? dim : vectors.length
  const bpv = bytesPerVector(dim, bits)
  const codes = new Uint8Array(count * bpv)
  const scales = new Float32Array(groups)
  const zeroPoints = new Float32Array(bits === 1 ? 0 : groups)
  const qmax = 2 ** bits - 1
  let sumSq = 0
  let maxAbs = 0
  for (let g = 0; g < groups; g++) {
    // Pass 1: the group's parameters from its values.
    const start = g * groupSize
    const end = start + groupSize
    let scale: number
    let zp = 0
    if (bits === 1) {
      let sum = 0
      let top = 0
      for (let i = start; i < end; i++) {
        const a = Math.abs(vectors[i] as number)
        sum += a
        if (a > top) top = a
      }
      checkMagnitude(top, g)
      scale = Math.fround(sum / groupSize)
    } else {
      let lo = 0
      let hi = 0
      for (let i = start; i < end; i++) {
        const x = vectors[i] as number
        if (x < lo) lo = x
        else if (x > hi) hi = x
      }
      checkMagnitude(Math.max(hi, -lo), g)
      if (hi === lo) {
        scale = 1
      } else {
        scale = Math.fround((hi - lo) / qmax)
        if (scale < MIN_SCALE) scale = MIN_SCALE
        zp = Math.min(qmax, Math.max(0, -roundEven(lo / scale)))
      }
      zeroPoints[g] = zp
    }
    scales[g] = scale
    // Pass 2: codes and the reconstruction error, vector by vector.
    const firstVector = perVector ? g : 0
    const lastVector = perVector ? g + 1 : count
    for (let v = firstVector; v < lastVector; v++) {
      const base = v * bpv
      const off = v * dim
      for (let j = 0; j < dim; j++) {
        const x = vectors[off + j] as number
        let recon: number
        if (bits === 8) {
          const q = Math.min(qmax, Math.max(0, roundEven(x / scale) + zp))
          codes[base + j] = q
          recon = Math.fround(scale * (q - zp))
        } else if (bits === 4) {
          const q = Math.min(qmax, Math.max(0, roundEven(x / scale) + zp))
          codes[base + (j >> 1)] = (codes[base + (j >> 1)] as number) | ((j & 1) === 0 ? q : q << 4)
          recon = Math.fround(scale * (q - zp))
        } else if (x >= 0) {
          codes[base + (j >> 3)] = (codes[base + (j >> 3)] as number) | (1 << (j & 7))
          recon = scale
        } else {
          recon = -scale
        }
        const d = Math.abs(x - recon)
        sumSq += d * d
        if (d > maxAbs) maxAbs = d
      }
    }
  }
  return { bits, dim, count, perVector, codes, scales, zeroPoints, error: { mse: Math.fround(sumSq / vectors.length), maxAbs: Math.fround(maxAbs) } }
}

/**
 * Reconstruct float32 vectors from codes (validates like the kernel does).
 *
 * @example
 * const back = dequantize(quantize({ bits: 4, dim: 8, vectors }))
 */
export function dequantize (input: DequantizeInput): Float32Array {
  const { bits, dim, perVector, codes, scales, zeroPoints } = input
  const count = checkDequantize(input)
  const bpv = bytesPerVector(dim, bits)
  const out = new Float32Array(count * dim)
  for (let v = 0; v < count; v++) {
    const g = perVector ? v : 0
    const scale = scales[g] as number
    const zp = bits === 1 ? 0 : zeroPoints[g] as number
    const base = v * bpv
    const off = v * dim
    if (bits === 8) {
      for (let j = 0; j < dim; j++) out[off + j] = Math.fround(scale * ((codes[base + j] as number) - zp))
    } else if (bits === 4) {
      for (let j = 0; j < dim; j++) out[off + j] = Math.fround(scale * ((((codes[base + (j >> 1)] as number) >> ((j & 1) << 2)) & 15) - zp))
    } else {
      for (let j = 0; j < dim; j++) out[off + j] = (((codes[base + (j >> 3)] as number) >> (j & 7)) & 1) === 1 ? scale : -scale
    }
  }
  return out
}

/**
 * Validate a dequantize input completely (shapes, limits, parameters, padding); returns the vector
 * count. Throws `KernelError`.
 * @example checkDequantize(quantize({ bits: 8, dim: 2, vectors })) === vectors.length / 2
 */
export function checkDequantize (input: DequantizeInput): number {
  const { bits, dim, perVector, codes, scales, zeroPoints } = input
  checkShape(bits, dim)
  const bpv = bytesPerVector(dim, bits)
  if (codes.length === 0 || codes.length % bpv !== 0) {
    throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `codes: ${codes.length} bytes is not a positive multiple of ${bpv} (dim ${dim} at ${bits} bits)`)
  }
  const count = codes.length / bpv
  if (count * dim * 4 > MAX_COMPRESSION_BYTES) {
    throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${count} × ${dim} float32 values exceed ${MAX_COMPRESSION_BYTES} bytes`)
  }
  const groups = perVector ? count : 1
  if (scales.length !== groups) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `scales: ${scales.length} values, expected ${groups}`)
  const zpCount = bits === 1 ? 0 : groups
  if (zeroPoints.length !== zpCount) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `zeroPoints: ${zeroPoints.length} values, expected ${zpCount}`)
  const qmax = 2 ** bits - 1
  for (let g = 0; g < groups; g++) {
    const s = scales[g] as number
    if (!(s >= 0) || !Number.isFinite(s)) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `scales[${g}] must be finite and >= 0, got ${s}`)
    if (bits !== 1) {
      const z = zeroPoints[g] as number
      if (!Number.isInteger(z) || z < 0 || z > qmax) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `zeroPoints[${g}] must be an integer in [0, ${qmax}], got ${z}`)
      // The largest |q − Z| is max(Z, qmax − Z); refuse parameters that reconstruct beyond float32.
      if (!Number.isFinite(Math.fround(s * Math.max(z, qmax - z)))) {
        throw new KernelError('ERR_KERNEL_NON_FINITE', `scales[${g}] × codes reconstruct beyond float32's range`)
      }
    }
  }
  checkPadding(codes, count, dim, bits, bpv)
  return count
}

/**
 * Refuse |x| above {@link MAX_COMPRESSION_MAGNITUDE}: the squared error of larger values can exceed
 * float32's range, and the reported mse is a float32.
 * @example checkMagnitude(Math.abs(x), vectorIndex)
 */
export function checkMagnitude (top: number, group: number): void {
  if (top > MAX_COMPRESSION_MAGNITUDE) {
    throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `group (or vector) ${group} holds a value of magnitude ${top}, above ${MAX_COMPRESSION_MAGNITUDE} (2^60)`)
  }
}

/** Refuse bits other than 8, 4, 1 and a dim outside [1, MAX_COMPRESSION_DIM]. @example checkShape(8, 128) */
export function checkShape (bits: number, dim: number): void {
  if (!(QUANTIZE_BITS as readonly number[]).includes(bits)) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `bits must be 8, 4 or 1, got ${bits}`)
  if (!Number.isSafeInteger(dim) || dim < 1) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `dim must be a positive integer, got ${dim}`)
  if (dim > MAX_COMPRESSION_DIM) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `dim ${dim} is above ${MAX_COMPRESSION_DIM}`)
}

/** Padding bits must be zero, so that one set of codes has one encoding. */
function checkPadding (codes: Uint8Array, count: number, dim: number, bits: QuantizeBits, bpv: number): void {
  const used = (dim * bits) % 8
  if (used === 0) return
  const mask = 0xff & ~((1 << used) - 1)
  for (let v = 0; v < count; v++) {
    if (((codes[v * bpv + bpv - 1] as number) & mask) !== 0) throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', `vector ${v}'s padding bits are not zero`)
  }
}
