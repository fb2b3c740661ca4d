/**
 * The `compression` kernel: adaptive quantization of float32 vectors to int8, int4 or binary codes
 * with the reconstruction error reported, and the inverse. The schemes, their exact arithmetic and
 * their limits are in quantize.ts; this file is the wire format and the kernel.
 *
 * Quantize payload: `{ op: 'quantize', bits: 8 | 4 | 1, dim, vectors: f32 bytes, perVector?: bool }`
 * (perVector defaults to true: a scale and zero point per vector; false: one for the whole tensor).
 * Output ({@link QuantizedVectors} on the wire):
 *
 *     { bits, count, dim, perVector, codes: bytes, scales: f32 bytes, zeroPoints: f32 bytes,
 *       error: { maxAbs: f32 bytes(4), mse: f32 bytes(4) } }
 *
 * Dequantize payload: `{ op: 'dequantize', bits, dim, perVector, codes, scales, zeroPoints }` (the
 * quantize output's fields; {@link encodeDequantizePayload} builds it from one). Output:
 * `{ count, dim, vectors: f32 bytes }`.
 *
 * Size: the float32 byte length of the vectors (the input of quantize, the output of dequantize),
 * in the price table's unit 'byte': the work is per element either way.
 *
 * Comparator: exact bytes. The arithmetic is IEEE-754 basic operations in a fixed order
 * (quantize.ts), which every JavaScript engine evaluates identically.
 */
import { encodeCanonical } from '../codec/index.ts'
import type { CborValue } from '../codec/index.ts'
import { KernelError } from './errors.ts'
import { PayloadFields } from './fields.ts'
import { floatsToBytes } from './floats.ts'
import type { Kernel, KernelRunOptions } from './types.ts'
import {
  checkDequantize, checkMagnitude, checkShape, dequantize, quantize,
  MAX_COMPRESSION_BYTES, MAX_COMPRESSION_MAGNITUDE
} from './quantize.ts'
import type { DequantizedVectors, DequantizeInput, QuantizeBits, QuantizedVectors, QuantizeInput } from './quantize.ts'

export {
  dequantize, quantize, QUANTIZE_BITS, MAX_COMPRESSION_BYTES, MAX_COMPRESSION_DIM, MAX_COMPRESSION_MAGNITUDE
} from './quantize.ts'
export type { DequantizedVectors, DequantizeInput, QuantizeBits, QuantizedVectors, QuantizeInput } from './quantize.ts'

// Codes + per-vector scales and zero points can exceed the input for tiny dims (dim 1: 1 + 8 bytes
// of parameters per 4-byte float), hence the margin.
const MAX_WIRE_BYTES = 3 * MAX_COMPRESSION_BYTES + 1024

/**
 * Build a quantize payload.
 *
 * @example
 * const payload = encodeQuantizePayload({ bits: 8, dim: 128, vectors })
 */
export function encodeQuantizePayload (input: QuantizeInput): Uint8Array {
  checkShape(input.bits, input.dim)
  const map: Record<string, CborValue> = { op: 'quantize', bits: input.bits, dim: input.dim, vectors: floatsToBytes(input.vectors) }
  if (input.perVector !== undefined) map.perVector = input.perVector
  return encodeCanonical(map)
}

/**
 * Build a dequantize payload, e.g. from a quantize output.
 *
 * @example
 * const payload = encodeDequantizePayload(decodeQuantizeOutput(await compressionKernel.run(q)))
 */
export function encodeDequantizePayload (input: DequantizeInput): Uint8Array {
  return encodeCanonical({
    op: 'dequantize',
    bits: input.bits,
    dim: input.dim,
    perVector: input.perVector,
    codes: input.codes,
    scales: floatsToBytes(input.scales),
    zeroPoints: floatsToBytes(input.zeroPoints)
  })
}

/**
 * Read a quantize output. Throws `KernelError` for bytes that are not one.
 *
 * @example
 * const { codes, scales, error } = decodeQuantizeOutput(await compressionKernel.run(payload))
 */
export function decodeQuantizeOutput (bytes: Uint8Array): QuantizedVectors {
  const f = decode(bytes, 'output').only(['bits', 'codes', 'count', 'dim', 'error', 'perVector', 'scales', 'zeroPoints'])
  const e = f.map('error').only(['maxAbs', 'mse'])
  const mse = e.floats('mse')
  const maxAbs = e.floats('maxAbs')
  if (mse.length !== 1 || maxAbs.length !== 1) throw e.error('error.mse and error.maxAbs are one float32 each')
  const q = readDequantizeInput(f)
  const count = f.int('count')
  if (checkDequantize(q) !== count) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `count ${count} does not fit the codes`)
  return { ...q, count, error: { mse: mse[0] as number, maxAbs: maxAbs[0] as number } }
}

/**
 * Read a dequantize output.
 *
 * @example
 * const { vectors } = decodeDequantizeOutput(await compressionKernel.run(payload))
 */
export function decodeDequantizeOutput (bytes: Uint8Array): DequantizedVectors {
  const f = decode(bytes, 'output').only(['count', 'dim', 'vectors'])
  const count = f.int('count')
  const dim = f.int('dim')
  const vectors = f.floats('vectors')
  if (vectors.length !== count * dim) throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `vectors: ${vectors.length} values is not ${count} × ${dim}`)
  return { count, dim, vectors }
}

type Parsed = { op: 'quantize', input: QuantizeInput } | { op: 'dequantize', input: DequantizeInput }

function decode (bytes: Uint8Array, what: 'payload' | 'output'): PayloadFields {
  return PayloadFields.decode(bytes, { maxBytes: MAX_WIRE_BYTES, what: `compression ${what}` })
}

/** The fields a dequantize payload shares with a quantize output, read in this order. */
function readDequantizeInput (f: PayloadFields): DequantizeInput {
  return {
    bits: f.int('bits') as QuantizeBits,
    dim: f.int('dim'),
    perVector: f.bool('perVector'),
    codes: f.bytes('codes'),
    scales: f.floats('scales'),
    zeroPoints: f.floats('zeroPoints')
  }
}

function parsePayload (payload: Uint8Array): Parsed {
  const f = decode(payload, 'payload')
  const op = f.choice('op', ['quantize', 'dequantize'])
  if (op === 'quantize') {
    f.only(['bits', 'dim', 'op', 'vectors'], ['perVector'])
    const bits = f.int('bits')
    const dim = f.int('dim')
    checkShape(bits, dim)
    const raw = f.bytes('vectors')
    if (raw.length > MAX_COMPRESSION_BYTES) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `vectors: ${raw.length} bytes, more than ${MAX_COMPRESSION_BYTES}`)
    const vectors = f.floats('vectors')
    if (vectors.length === 0 || vectors.length % dim !== 0) {
      throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `vectors: ${vectors.length} values is not a positive multiple of dim ${dim}`)
    }
    for (let i = 0; i < vectors.length; i++) {
      const a = Math.abs(vectors[i] as number)
      if (a > MAX_COMPRESSION_MAGNITUDE) checkMagnitude(a, Math.floor(i / dim))
    }
    const perVector = f.has('perVector') ? f.bool('perVector') : true
    return { op: 'quantize', input: { bits: bits as QuantizeBits, dim, vectors, perVector } }
  }
  f.only(['bits', 'codes', 'dim', 'op', 'perVector', 'scales', 'zeroPoints'])
  checkShape(f.int('bits'), f.int('dim'))
  return { op: 'dequantize', input: readDequantizeInput(f) }
}

/**
 * The `compression` kernel (module comment for the schemes, limits and determinism).
 *
 * @example
 * const out = decodeQuantizeOutput(await compressionKernel.run(encodeQuantizePayload({ bits: 4, dim, vectors })))
 */
export const compressionKernel: Kernel = {
  type: 'compression',

  size (payload: Uint8Array): number {
    const p = parsePayload(payload)
    if (p.op === 'quantize') return p.input.vectors.length * 4
    // Validated completely (the same checks as run); priced by the bytes it reconstructs.
    return checkDequantize(p.input) * p.input.dim * 4
  },

  async run (payload: Uint8Array, options?: KernelRunOptions): Promise<Uint8Array> {
    const p = parsePayload(payload)
    options?.signal?.throwIfAborted()
    if (p.op === 'dequantize') {
      const vectors = dequantize(p.input)
      return encodeCanonical({ count: vectors.length / p.input.dim, dim: p.input.dim, vectors: floatsToBytes(vectors) })
    }
    const q = quantize(p.input)
    return encodeCanonical({
      bits: q.bits,
      codes: q.codes,
      count: q.count,
      dim: q.dim,
      error: { maxAbs: floatsToBytes(new Float32Array([q.error.maxAbs])), mse: floatsToBytes(new Float32Array([q.error.mse])) },
      perVector: q.perVector,
      scales: floatsToBytes(q.scales),
      zeroPoints: floatsToBytes(q.zeroPoints)
    })
  },

  /** Exact bytes (see the module comment on determinism); malformed outputs agree with nothing. */
  agree (a: Uint8Array, b: Uint8Array): boolean {
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    try {
      decodeQuantizeOutput(a)
      return true
    } catch {
      try {
        decodeDequantizeOutput(a)
        return true
      } catch {
        return false
      }
    }
  }
}
