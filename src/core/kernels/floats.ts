/**
 * Float vectors on the wire. The canonical codec carries no floats (one value, one encoding), so a
 * vector travels as a byte string of little-endian IEEE-754 float32 values, and a matrix as such a
 * byte string plus its dimensions. Decoding copies (the payload's buffer may be unaligned or
 * reused) and refuses NaN and ±Infinity.
 */
import { KernelError } from './errors.ts'

/**
 * Whether this engine stores typed arrays little-endian (every current one does), so float32 wire
 * bytes can be copied rather than converted value by value.
 *
 * @example if (LITTLE_ENDIAN) out.set(new Uint8Array(values.buffer))
 */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * Float32 values to little-endian bytes.
 *
 * @example
 * floatsToBytes(new Float32Array([1, 2])).length // 8
 */
export function floatsToBytes (values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength))
  const out = new Uint8Array(values.length * 4)
  const view = new DataView(out.buffer)
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true)
  return out
}

/**
 * Little-endian bytes to float32 values, refusing a length that is not a multiple of 4
 * (`ERR_KERNEL_BAD_PAYLOAD`) and any NaN or ±Infinity (`ERR_KERNEL_NON_FINITE`).
 *
 * @example
 * bytesToFloats(floatsToBytes(new Float32Array([1.5])), 'query')[0] // 1.5
 */
export function bytesToFloats (bytes: Uint8Array, what: string): Float32Array {
  if (bytes.length % 4 !== 0) throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', `${what}: ${bytes.length} bytes is not a whole number of float32 values`)
  const out = new Float32Array(bytes.length / 4)
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes)
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true)
  }
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i] as number)) throw new KernelError('ERR_KERNEL_NON_FINITE', `${what}[${i}] is ${String(out[i])}`)
  }
  return out
}

/**
 * Decode a row-major matrix of `rows × dim` float32 values, checking the length fits the stated
 * dimensions (`ERR_KERNEL_DIMENSION_MISMATCH`).
 *
 * @example
 * bytesToMatrix(floatsToBytes(new Float32Array(6)), 2, 3, 'vectors').length // 6
 */
export function bytesToMatrix (bytes: Uint8Array, rows: number, dim: number, what: string): Float32Array {
  const values = bytesToFloats(bytes, what)
  if (values.length !== rows * dim) {
    throw new KernelError('ERR_KERNEL_DIMENSION_MISMATCH', `${what}: ${values.length} values is not ${rows} × ${dim}`)
  }
  return values
}
