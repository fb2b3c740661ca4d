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
