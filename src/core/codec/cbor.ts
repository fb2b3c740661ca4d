/**
 * Canonical CBOR: exactly one byte string per value.
 *
 * Encoding follows RFC 8949 §4.2.1 (core deterministic encoding: shortest integer and length
 * forms, definite lengths, map keys sorted bytewise) via cborg, a small, strict, well-kept CBOR
 * library. Decoding uses strict-decode.ts, which accepts an input only if it is the canonical
 * encoding of what it decodes to (and only edge-net's subset: integers, byte and text strings,
 * arrays, text-keyed maps, booleans and null).
 */
import { encode, rfc8949EncodeOptions } from 'cborg'
import { CodecError } from './errors.ts'
import type { CborValue } from './errors.ts'
import { strictDecode } from './strict-decode.ts'

export { CodecError, CODEC_ERROR_CODES } from './errors.ts'
export type { CborValue, CodecErrorCode } from './errors.ts'

/** Largest accepted input unless the caller says otherwise (1 MiB). */
export const DEFAULT_MAX_BYTES = 1 << 20

/**
 * Encode a value canonically.
 * @example encodeCanonical({ b: 1, a: [2n] }) // a2 6161 81 02 6162 01: key 'a' first
 */
export function encodeCanonical (value: unknown): Uint8Array {
  try {
    // cborg hands back a Node Buffer where one exists; re-view it as a plain Uint8Array so that
    // `slice` copies (Buffer#slice does not) and bytes are the same type in every runtime.
    const out = encode(value, rfc8949EncodeOptions)
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
  } catch (err) {
    throw new CodecError('ERR_CODEC_UNENCODABLE', `value cannot be encoded: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Decode canonical CBOR, rejecting oversized, truncated, trailing-byte and non-canonical input.
 * Byte strings in the result are views into `bytes`.
 * @example decodeCanonical(encodeCanonical([1, 'a'])) // [1, 'a']
 */
export function decodeCanonical (bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_BYTES): CborValue {
  if (!(bytes instanceof Uint8Array)) throw new CodecError('ERR_CODEC_MALFORMED', 'input is not a Uint8Array')
  if (bytes.length > maxBytes) throw new CodecError('ERR_CODEC_OVERSIZED', `input is ${bytes.length} bytes, more than ${maxBytes}`)
  if (bytes.length === 0) throw new CodecError('ERR_CODEC_TRUNCATED', 'input is empty')
  return strictDecode(bytes)
}
