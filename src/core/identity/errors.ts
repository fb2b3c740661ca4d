/**
 * The identity domain's errors: one class, one stable code per failure (listed in docs/errors.md).
 * Verification of a forged signature is not an error (it returns false); these codes are for
 * malformed arguments, unreadable identity files and sealed payloads that do not open.
 */
import { EdgeNetError } from '../errors.ts'

/**
 * Every code an {@link IdentityError} can carry.
 *
 * @example
 * IDENTITY_ERROR_CODES.includes(err.code)
 */
export const IDENTITY_ERROR_CODES = [
  /** An Ed25519 public key (or point encoding) is not exactly 32 bytes. */
  'ERR_BAD_KEY_LENGTH',
  /** An Ed25519 signature is not exactly 64 bytes. */
  'ERR_BAD_SIGNATURE_LENGTH',
  /** Identity bytes are truncated, corrupt, of an unknown version, or hold mismatched keys. */
  'ERR_BAD_IDENTITY_FILE',
  /** A node id has a bad prefix, length, character or checksum. */
  'ERR_BAD_NODE_ID',
  /** A network id or message type is empty, longer than 255 bytes or not a string. */
  'ERR_BAD_DOMAIN',
  /** An X25519 agreement key is not 32 bytes, or is of small order (all-zero shared secret). */
  'ERR_BAD_AGREEMENT_KEY',
  /** A sealed payload did not open: tampered, truncated, wrong recipient or wrong network. */
  'ERR_SEAL_OPEN_FAILED'
] as const

/** One of {@link IDENTITY_ERROR_CODES}. @example const code: IdentityErrorCode = 'ERR_BAD_NODE_ID' */
export type IdentityErrorCode = typeof IDENTITY_ERROR_CODES[number]

/**
 * A failure of the identity layer.
 *
 * @example
 * try { publicKeyFromNodeId(text) } catch (err) {
 *   if (err instanceof IdentityError && err.code === 'ERR_BAD_NODE_ID') console.log('typo?')
 * }
 */
export class IdentityError extends EdgeNetError {
  declare readonly code: IdentityErrorCode

  constructor (code: IdentityErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'IdentityError'
  }
}
