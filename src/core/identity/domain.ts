/**
 * Domain separation for everything edge-net signs. A signature is made over
 *
 *   utf8('edge-net/1') || 0x00 || u16be(len(networkId)) || networkId
 *                              || u16be(len(messageType)) || messageType || payload
 *
 * so a signature made for one network (a test net, a private deployment) or one kind of message
 * (an event, an agreement-key binding, a handshake) can never be replayed as another: the
 * length prefixes make the split between the fields unambiguous ('ab' + 'c' and 'a' + 'bc' give
 * different bytes), and the 0x00 after the protocol tag keeps these bytes apart from any other
 * edge-net framing that starts with text. This is the context string RFC 8032 §8.3 recommends,
 * done in the message because WebCrypto offers only pure Ed25519 (no Ed25519ctx).
 */
import { utf8, concatBytes } from '../bytes.ts'
import { IdentityError } from './errors.ts'
import { verifyEd25519 } from './ed25519.ts'

/** The protocol tag every signed byte string starts with. @example fromUtf8(bytes.subarray(0, 10)) === SIGNING_PROTOCOL_TAG */
export const SIGNING_PROTOCOL_TAG = 'edge-net/1'

/** The longest network id or message type, in UTF-8 bytes. @example utf8(networkId).length <= MAX_DOMAIN_FIELD_LENGTH */
export const MAX_DOMAIN_FIELD_LENGTH = 255

const TAG_BYTES = utf8(SIGNING_PROTOCOL_TAG)

/**
 * What signMessage needs from a signer: an Identity, or anything that signs like one.
 *
 * @example
 * const signer: MessageSigner = await Identity.generate()
 */
export interface MessageSigner {
  sign (message: Uint8Array): Promise<Uint8Array>
}

function field (name: string, value: string): Uint8Array {
  if (typeof value !== 'string') throw new IdentityError('ERR_BAD_DOMAIN', `${name} must be a string`)
  const bytes = utf8(value)
  if (bytes.length === 0 || bytes.length > MAX_DOMAIN_FIELD_LENGTH) {
    throw new IdentityError('ERR_BAD_DOMAIN', `${name} must be 1 to ${MAX_DOMAIN_FIELD_LENGTH} UTF-8 bytes, got ${bytes.length}`)
  }
  return bytes
}

function u16be (n: number): Uint8Array {
  return new Uint8Array([n >>> 8, n & 0xff])
}

/**
 * The exact bytes that are signed for `payload` as a `messageType` message on `networkId`.
 * Throws IdentityError ERR_BAD_DOMAIN for an empty or over-long network id or message type.
 *
 * @example
 * const bytes = signedBytes('mainnet', 'ledger/event', encodedEvent)
 */
export function signedBytes (networkId: string, messageType: string, payload: Uint8Array): Uint8Array {
  const network = field('networkId', networkId)
  const type = field('messageType', messageType)
  if (!(payload instanceof Uint8Array)) throw new TypeError('payload must be a Uint8Array')
  return concatBytes(TAG_BYTES, new Uint8Array([0]), u16be(network.length), network, u16be(type.length), type, payload)
}

/**
 * Sign `payload` as a `messageType` message on `networkId` (see {@link signedBytes}).
 *
 * @example
 * const sig = await signMessage(identity, 'mainnet', 'ledger/event', encodedEvent)
 */
export async function signMessage (signer: MessageSigner, networkId: string, messageType: string, payload: Uint8Array): Promise<Uint8Array> {
  return await signer.sign(signedBytes(networkId, messageType, payload))
}

/**
 * Verify a signature made by {@link signMessage}, strictly (see verifyEd25519). Returns false for
 * a forged signature or one made for another network or message type; throws only for malformed
 * arguments (ERR_BAD_DOMAIN, ERR_BAD_KEY_LENGTH, ERR_BAD_SIGNATURE_LENGTH).
 *
 * @example
 * if (!(await verifyMessage(author, 'mainnet', 'ledger/event', encodedEvent, sig))) drop()
 */
export async function verifyMessage (
  publicKey: Uint8Array, networkId: string, messageType: string, payload: Uint8Array, signature: Uint8Array
): Promise<boolean> {
  return await verifyEd25519(publicKey, signedBytes(networkId, messageType, payload), signature)
}
