export { encodeCanonical, decodeCanonical, DEFAULT_MAX_BYTES } from './cbor.ts'
export { CodecError, CODEC_ERROR_CODES } from './errors.ts'
export type { CborValue, CodecErrorCode } from './errors.ts'
export { strictDecode } from './strict-decode.ts'
