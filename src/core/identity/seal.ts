/**
 * Sealed payloads: encrypt to one peer's X25519 agreement key so that relays see ciphertext.
 * An ECIES-style construction (in the manner of HPKE base mode, RFC 9180, but fixed to one
 * suite and built from WebCrypto calls only):
 *
 *   e, E    = fresh X25519 key pair                      (RFC 7748)
 *   shared  = X25519(e, recipient agreement key)         rejected if all zero (RFC 7748 §6.1)
 *   key     = HKDF-SHA-256(shared, salt = E || recipient agreement key, info = 'edge-net/seal/1')
 *   sealed  = 0x01 || E || iv (12 random bytes) || AES-256-GCM(key, iv, plaintext, aad)
 *   aad     = signedBytes(networkId, 'seal/1', utf8(recipient nodeId))
 *
 * The salt binds the key to both public keys, and the additional data binds the ciphertext to
 * the recipient's node id and the network, so a sealed payload cannot be redirected to another
 * node or replayed on another network. Every failure to open is the same error,
 * ERR_SEAL_OPEN_FAILED, so that a prober learns nothing about which check failed.
 */
import { concatBytes, utf8 } from '../bytes.ts'
import { IdentityError } from './errors.ts'
import { signedBytes } from './domain.ts'
import { publicKeyFromNodeId } from './node-id.ts'
import { agreementPrivateKey, X25519_PUBLIC_KEY_LENGTH } from './keys.ts'
import type { Identity } from './keys.ts'
import { asBufferSource, generateKeyPair } from './webcrypto.ts'
import type { WebCryptoKey } from './webcrypto.ts'

/** The version byte every sealed payload starts with. @example sealed[0] === SEAL_VERSION */
export const SEAL_VERSION = 1
const IV_LENGTH = 12
const TAG_LENGTH = 16
const HEADER_LENGTH = 1 + X25519_PUBLIC_KEY_LENGTH + IV_LENGTH
/** The shortest sealed payload (an empty plaintext): header plus the GCM tag, 61 bytes. @example sealed.length === SEAL_OVERHEAD + plaintext.length */
export const SEAL_OVERHEAD = HEADER_LENGTH + TAG_LENGTH
const HKDF_INFO = utf8('edge-net/seal/1')
const AAD_TYPE = 'seal/1'

/**
 * Whom to seal to: a node id and the agreement key it has bound to it (verifyAgreementBinding).
 *
 * @example
 * const to: SealRecipient = { nodeId: peer.nodeId, agreementPublicKey: peer.agreementPublicKey }
 */
export interface SealRecipient {
  nodeId: string
  agreementPublicKey: Uint8Array
}

/** The network a sealed payload belongs to. @example await seal(to, bytes, { networkId: 'mainnet' }) */
export interface SealOptions {
  networkId: string
}

/**
 * @internal X25519 with a peer's key, imported as HKDF key material; null when the peer key is
 * unusable (small order, or refused by WebCrypto). Shared by seal() and the pair boxes (box.ts).
 */
export async function agreeHkdfKey (privateKey: WebCryptoKey, peerPublicKey: Uint8Array): Promise<WebCryptoKey | null> {
  let shared: Uint8Array
  try {
    const peer = await crypto.subtle.importKey('raw', asBufferSource(new Uint8Array(peerPublicKey)), { name: 'X25519' }, true, [])
    shared = new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: peer }, privateKey, 256))
  } catch {
    return null // Node refuses an all-zero result itself (RFC 7748 §6.1 allows either)
  }
  // RFC 7748 §6.1: a small-order peer key gives the all-zero secret, known to everyone. Checked
  // here too because not every WebCrypto refuses it. OR-folded so the check does not branch early.
  let any = 0
  for (const byte of shared) any |= byte
  if (any === 0) return null
  const ikm = await crypto.subtle.importKey('raw', asBufferSource(shared), 'HKDF', false, ['deriveBits'])
  shared.fill(0)
  return ikm
}

/** X25519 then HKDF; null when the peer key is unusable (small order, or refused by WebCrypto). */
async function deriveSealKey (privateKey: WebCryptoKey, peerPublicKey: Uint8Array, ephemeralPublicKey: Uint8Array,
  recipientPublicKey: Uint8Array, usage: 'encrypt' | 'decrypt'): Promise<WebCryptoKey | null> {
  const ikm = await agreeHkdfKey(privateKey, peerPublicKey)
  if (ikm === null) return null
  const keyBits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: asBufferSource(concatBytes(ephemeralPublicKey, recipientPublicKey)), info: asBufferSource(HKDF_INFO) },
    ikm, 256)
  return await crypto.subtle.importKey('raw', keyBits, { name: 'AES-GCM' }, false, [usage])
}

function additionalData (networkId: string, nodeId: string): Uint8Array<ArrayBuffer> {
  return asBufferSource(signedBytes(networkId, AAD_TYPE, utf8(nodeId)))
}

/**
 * Encrypt `plaintext` so that only `recipient` can open it, on `networkId`. Throws IdentityError
 * ERR_BAD_NODE_ID or ERR_BAD_DOMAIN for malformed arguments, and ERR_BAD_AGREEMENT_KEY for an
 * agreement key that is not 32 bytes or is of small order.
 *
 * @example
 * const sealed = await seal({ nodeId: peer.nodeId, agreementPublicKey: peer.agreementPublicKey }, payload, { networkId: 'mainnet' })
 */
export async function seal (recipient: SealRecipient, plaintext: Uint8Array, options: SealOptions): Promise<Uint8Array> {
  publicKeyFromNodeId(recipient.nodeId) // throws ERR_BAD_NODE_ID for a malformed id
  const recipientKey = recipient.agreementPublicKey
  if (!(recipientKey instanceof Uint8Array) || recipientKey.length !== X25519_PUBLIC_KEY_LENGTH) {
    throw new IdentityError('ERR_BAD_AGREEMENT_KEY', `an X25519 public key is ${X25519_PUBLIC_KEY_LENGTH} bytes`)
  }
  if (!(plaintext instanceof Uint8Array)) throw new TypeError('plaintext must be a Uint8Array')
  const aad = additionalData(options.networkId, recipient.nodeId)
  const ephemeral = await generateKeyPair('X25519')
  const ephemeralPublicKey = new Uint8Array(await crypto.subtle.exportKey('raw', ephemeral.publicKey))
  const key = await deriveSealKey(ephemeral.privateKey, recipientKey, ephemeralPublicKey, recipientKey, 'encrypt')
  if (key === null) {
    throw new IdentityError('ERR_BAD_AGREEMENT_KEY', 'the recipient agreement key is of small order (all-zero shared secret)')
  }
  // A random 96-bit IV under a key used once: the key is fresh per payload, so the IV could be
  // fixed; a random one costs nothing and keeps the format safe if the key is ever reused.
  const iv = crypto.getRandomValues(new Uint8Array(IV_LENGTH))
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: aad, tagLength: TAG_LENGTH * 8 }, key, asBufferSource(plaintext)))
  return concatBytes(new Uint8Array([SEAL_VERSION]), ephemeralPublicKey, iv, ciphertext)
}

/**
 * Decrypt a payload sealed to `identity` on `networkId`. Throws IdentityError
 * ERR_SEAL_OPEN_FAILED for every payload that does not open (tampered, truncated, another
 * version, another recipient, another network), without saying which; ERR_BAD_DOMAIN for a
 * malformed network id.
 *
 * @example
 * const payload = await open(me, sealed, { networkId: 'mainnet' })
 */
export async function open (identity: Identity, sealed: Uint8Array, options: SealOptions): Promise<Uint8Array> {
  const aad = additionalData(options.networkId, identity.nodeId)
  const privateKey = agreementPrivateKey(identity)
  if (!(sealed instanceof Uint8Array) || sealed.length < SEAL_OVERHEAD || sealed[0] !== SEAL_VERSION) throw openFailed()
  const ephemeralPublicKey = sealed.subarray(1, 1 + X25519_PUBLIC_KEY_LENGTH)
  const iv = asBufferSource(sealed.subarray(1 + X25519_PUBLIC_KEY_LENGTH, HEADER_LENGTH))
  const key = await deriveSealKey(privateKey, ephemeralPublicKey, ephemeralPublicKey, identity.agreementPublicKey, 'decrypt')
  if (key === null) throw openFailed()
  try {
    return new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: aad, tagLength: TAG_LENGTH * 8 }, key, asBufferSource(sealed.subarray(HEADER_LENGTH))))
  } catch (err) {
    throw openFailed(err)
  }
}

function openFailed (cause?: unknown): IdentityError {
  // One message for every cause; the cause is kept for local debugging only (it is the generic
  // WebCrypto OperationError, which names no check).
  return new IdentityError('ERR_SEAL_OPEN_FAILED', 'sealed payload did not open', cause === undefined ? undefined : { cause })
}
