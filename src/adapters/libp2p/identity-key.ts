/**
 * The libp2p private key of a node, derived from its own Ed25519 identity key, so that its peer
 * id IS its edge-net public key and Noise (which signs the handshake with the peer id's key, see
 * the libp2p Noise spec §"Static Key Authentication") authenticates exactly that key.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { equalBytes } from '../../core/bytes.ts'
import { decodeCanonical } from '../../core/codec/index.ts'
import type { Identity } from '../../core/identity/index.ts'
import { TransportError } from './errors.ts'

/**
 * The fixed DER prefix of a PKCS#8 Ed25519 private key without attributes or public key
 * (RFC 8410 §7: SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING
 * (32) } }), which is what WebCrypto's exportKey('pkcs8') produces for Ed25519.
 */
const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20
])

/**
 * The 32-byte Ed25519 seed inside a WebCrypto PKCS#8 export; throws ERR_BAD_TRANSPORT_IDENTITY.
 *
 * @example
 * const seed = ed25519SeedFromPkcs8(pkcs8) // 32 bytes
 */
export function ed25519SeedFromPkcs8 (pkcs8: Uint8Array): Uint8Array {
  if (pkcs8.length !== PKCS8_ED25519_PREFIX.length + 32 || !equalBytes(pkcs8.subarray(0, PKCS8_ED25519_PREFIX.length), PKCS8_ED25519_PREFIX)) {
    throw new TransportError('ERR_BAD_TRANSPORT_IDENTITY', 'the identity signing key is not a bare PKCS#8 Ed25519 key (RFC 8410)')
  }
  return pkcs8.slice(PKCS8_ED25519_PREFIX.length)
}

/**
 * The libp2p private key of an identity: same Ed25519 key, so the peer id names the identity's
 * public key. The identity's exported secret bytes are wiped once read (best effort: the JS engine
 * may hold other copies).
 *
 * @example
 * const privateKey = await libp2pPrivateKey(identity)
 * peerIdFromPrivateKey(privateKey).publicKey.raw // equals identity.publicKey
 */
export async function libp2pPrivateKey (identity: Identity): Promise<Ed25519PrivateKey> {
  const exported = await identity.export()
  let sign: unknown
  try {
    // Copy: the decoder's byte strings are views into `exported`, which is wiped below.
    const field = (decodeCanonical(exported) as Record<string, unknown>).sign
    sign = field instanceof Uint8Array ? new Uint8Array(field) : field
  } catch (error) {
    throw new TransportError('ERR_BAD_TRANSPORT_IDENTITY', 'the identity export could not be read', { cause: error })
  } finally {
    exported.fill(0)
  }
  if (!(sign instanceof Uint8Array)) throw new TransportError('ERR_BAD_TRANSPORT_IDENTITY', 'the identity export has no signing key')
  const seed = ed25519SeedFromPkcs8(sign)
  sign.fill(0)
  try {
    const key = await generateKeyPairFromSeed('Ed25519', seed)
    if (!equalBytes(key.publicKey.raw, identity.publicKey)) {
      throw new TransportError('ERR_BAD_TRANSPORT_IDENTITY', 'the derived libp2p key does not match the identity public key')
    }
    return key
  } finally {
    seed.fill(0)
  }
}
