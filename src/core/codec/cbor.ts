/**
 * Canonical CBOR: exactly one byte string per value.
 *
 * Encoding follows RFC 8949 §4.2.1 (core deterministic encoding: shortest integer and length
 * forms, definite lengths, map keys sorted bytewise), via cborg, a small, strict, well-kept CBOR
 * library. Decoding is stricter than cborg alone can be: cborg cannot check map key order or
 * float width on decode (its README says so), so after a strict decode we re-encode the value and
 * require the same bytes. That closes every remaining degree of freedom: an input decodes only if
 * it is the canonical encoding of what it decodes to.
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { EdgeNetError } from '../errors.ts'

export const CODEC_ERROR_CODES = [
  'ERR_CODEC_OVERSIZED',
  'ERR_CODEC_TRUNCATED',
  'ERR_CODEC_TRAILING_BYTES',
  'ERR_CODEC_NON_CANONICAL',
  'ERR_CODEC_MALFORMED',
  'ERR_CODEC_UNENCODABLE'
] as const
export type CodecErrorCode = typeof CODEC_ERROR_CODES[number]

/** A byte string that is not the canonical encoding of a value we accept. */
export class CodecError extends EdgeNetError {
  declare readonly code: CodecErrorCode
  constructor (code: CodecErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'CodecError'
  }
}

/** A decoded CBOR value as edge-net uses it: no floats, no tags, no undefined. */
export type CborValue = null | boolean | number | bigint | string | Uint8Array | CborValue[] | { [key: string]: CborValue }

const DECODE_OPTIONS = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  rejectDuplicateMapKeys: true,
  allowBigInt: true,
  allowInfinity: false,
  allowNaN: false
}

/** Largest accepted input unless the caller says otherwise (1 MiB). */
export const DEFAULT_MAX_BYTES = 1 << 20

/**
 * Encode a value canonically.
 * @example encodeCanonical({ b: 1, a: [2n] }) // a5... with key 'a' first
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
 * @example decodeCanonical(encodeCanonical([1, 'a'])) // [1, 'a']
 */
export function decodeCanonical (bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_BYTES): CborValue {
  if (!(bytes instanceof Uint8Array)) throw new CodecError('ERR_CODEC_MALFORMED', 'input is not a Uint8Array')
  if (bytes.length > maxBytes) throw new CodecError('ERR_CODEC_OVERSIZED', `input is ${bytes.length} bytes, more than ${maxBytes}`)
  if (bytes.length === 0) throw new CodecError('ERR_CODEC_TRUNCATED', 'input is empty')
  let value: CborValue
  try {
    value = decode(bytes, DECODE_OPTIONS) as CborValue
  } catch (err) {
    throw classifyDecodeError(err)
  }
  let again: Uint8Array
  try {
    again = encode(value, rfc8949EncodeOptions)
  } catch (err) {
    throw new CodecError('ERR_CODEC_MALFORMED', 'decoded value cannot be re-encoded', { cause: err })
  }
  if (again.length !== bytes.length) throw new CodecError('ERR_CODEC_NON_CANONICAL', 'input is not the canonical encoding of its value')
  for (let i = 0; i < again.length; i++) {
    if (again[i] !== bytes[i]) throw new CodecError('ERR_CODEC_NON_CANONICAL', 'input is not the canonical encoding of its value')
  }
  return value
}

function classifyDecodeError (err: unknown): CodecError {
  const message = err instanceof Error ? err.message : String(err)
  if (/too many terminals/.test(message)) return new CodecError('ERR_CODEC_TRAILING_BYTES', 'input has bytes after the value', { cause: err })
  if (/not enough|unexpected end|out of bytes|insufficient|after end of input/i.test(message)) {
    return new CodecError('ERR_CODEC_TRUNCATED', 'input ends inside a value', { cause: err })
  }
  if (/more bytes than necessary|strict/i.test(message)) return new CodecError('ERR_CODEC_NON_CANONICAL', message, { cause: err })
  return new CodecError('ERR_CODEC_MALFORMED', message, { cause: err })
}
