/**
 * Errors of the libp2p transport adapter. Delivery itself is fire-and-forget (src/ports.ts), so
 * these codes are for what the caller did wrong or for setting the node up, never for a message
 * lost on the way.
 */
import { EdgeNetError } from '../../core/errors.ts'

/**
 * Every code a {@link TransportError} can carry (docs/errors.md lists them).
 *
 * @example
 * TRANSPORT_ERROR_CODES.includes('ERR_MESSAGE_TOO_LARGE') // true
 */
export const TRANSPORT_ERROR_CODES = [
  /** publish() or send() was given more bytes than the transport's `maxMessageBytes`. */
  'ERR_MESSAGE_TOO_LARGE',
  /** publish() or send() was given data that is not a Uint8Array. */
  'ERR_BAD_MESSAGE',
  /** A topic that is empty or longer than MAX_TOPIC_BYTES in UTF-8. */
  'ERR_BAD_TOPIC',
  /** A peer key that is not a 32-byte Ed25519 public key. */
  'ERR_BAD_PEER_KEY',
  /** The identity's exported key material is not an Ed25519 PKCS#8 key matching its public key. */
  'ERR_BAD_TRANSPORT_IDENTITY',
  /** A create() option out of range (size cap, connection limits, addresses). */
  'ERR_BAD_TRANSPORT_OPTIONS'
] as const

/** One of {@link TRANSPORT_ERROR_CODES}. @example const code: TransportErrorCode = 'ERR_BAD_TOPIC' */
export type TransportErrorCode = typeof TRANSPORT_ERROR_CODES[number]

/**
 * The caller handed the transport something it refuses; nothing was sent.
 *
 * @example
 * try { transport.send(peer, 'edge-net/x', huge) } catch (err) {
 *   if (err instanceof TransportError && err.code === 'ERR_MESSAGE_TOO_LARGE') { ... }
 * }
 */
export class TransportError extends EdgeNetError {
  declare readonly code: TransportErrorCode

  constructor (code: TransportErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'TransportError'
  }
}
