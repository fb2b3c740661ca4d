/**
 * Printable node ids: 'en' + lowercase base32 (RFC 4648 alphabet, no padding) of
 *
 *   publicKey (32 bytes) || SHA-256('edge-net/node-id' || publicKey)[0..4]
 *
 * The 4-byte checksum makes a mistyped or truncated id fail loudly (a random typo passes with
 * probability 2^-32) instead of silently naming another node; the prefix says what kind of string
 * it is when it turns up in a log. An id is 60 characters, and each key has exactly one id (the
 * last character's two spare bits must be zero, which fromBase32 enforces).
 */
import { concatBytes, equalBytes, fromBase32, toBase32, utf8 } from '../bytes.ts'
import { sha256 } from '@noble/hashes/sha2.js'
import { IdentityError } from './errors.ts'
import { ED25519_PUBLIC_KEY_LENGTH } from './ed25519.ts'

/** The prefix of every node id. @example nodeId.startsWith(NODE_ID_PREFIX) */
export const NODE_ID_PREFIX = 'en'
/** Checksum bytes appended to the public key before base32. */
const CHECKSUM_LENGTH = 4
/** Length of a node id in characters: 'en' + ceil(36 * 8 / 5) = 60. @example nodeId.length === NODE_ID_LENGTH */
export const NODE_ID_LENGTH = NODE_ID_PREFIX.length + Math.ceil((ED25519_PUBLIC_KEY_LENGTH + CHECKSUM_LENGTH) * 8 / 5)

const CHECKSUM_DOMAIN = utf8('edge-net/node-id')

function checksum (publicKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(CHECKSUM_DOMAIN, publicKey)).subarray(0, CHECKSUM_LENGTH)
}

/**
 * The printable id of an Ed25519 public key. Throws IdentityError ERR_BAD_KEY_LENGTH unless the
 * key is 32 bytes.
 *
 * @example
 * nodeIdFromPublicKey(identity.publicKey) // 'en' followed by 58 base32 characters
 */
export function nodeIdFromPublicKey (publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new IdentityError('ERR_BAD_KEY_LENGTH', `an Ed25519 public key is ${ED25519_PUBLIC_KEY_LENGTH} bytes`)
  }
  return NODE_ID_PREFIX + toBase32(concatBytes(publicKey, checksum(publicKey)))
}

/**
 * The Ed25519 public key a node id names. Throws IdentityError ERR_BAD_NODE_ID for a bad prefix,
 * length, character (ids are lowercase) or checksum.
 *
 * @example
 * const author = publicKeyFromNodeId('en...') // 32 bytes
 */
export function publicKeyFromNodeId (nodeId: string): Uint8Array {
  if (typeof nodeId !== 'string') throw new IdentityError('ERR_BAD_NODE_ID', 'a node id is a string')
  if (!nodeId.startsWith(NODE_ID_PREFIX)) {
    throw new IdentityError('ERR_BAD_NODE_ID', `a node id starts with '${NODE_ID_PREFIX}'`)
  }
  if (nodeId.length !== NODE_ID_LENGTH) {
    throw new IdentityError('ERR_BAD_NODE_ID', `a node id is ${NODE_ID_LENGTH} characters, got ${nodeId.length}`)
  }
  const bytes = fromBase32(nodeId.slice(NODE_ID_PREFIX.length))
  if (bytes === null || bytes.length !== ED25519_PUBLIC_KEY_LENGTH + CHECKSUM_LENGTH) {
    throw new IdentityError('ERR_BAD_NODE_ID', 'a node id is lowercase base32 (a-z, 2-7)')
  }
  const publicKey = bytes.slice(0, ED25519_PUBLIC_KEY_LENGTH)
  if (!equalBytes(bytes.subarray(ED25519_PUBLIC_KEY_LENGTH), checksum(publicKey))) {
    throw new IdentityError('ERR_BAD_NODE_ID', 'node id checksum mismatch (a typo?)')
  }
  return publicKey
}

/**
 * Whether a string is a well-formed node id (prefix, length, alphabet and checksum).
 *
 * @example
 * if (!isNodeId(input)) showError('not a node id')
 */
export function isNodeId (nodeId: string): boolean {
  try {
    publicKeyFromNodeId(nodeId)
    return true
  } catch {
    return false
  }
}
