export { encodeCanonical, decodeCanonical, CodecError, CODEC_ERROR_CODES, DEFAULT_MAX_BYTES } from './cbor.ts'
export type { CborValue, CodecErrorCode } from './cbor.ts'
