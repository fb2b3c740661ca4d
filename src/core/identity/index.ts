/**
 * The identity layer, public face: Ed25519 signing keys (strictly verified), printable node ids,
 * domain-separated signatures, X25519 agreement keys bound to signing keys (and a cache of
 * the verified ones), payloads sealed to a peer, and pair boxes (a key per pair of peers, for a
 * stream of messages). Everything here runs on WebCrypto alone, alike in Node and browsers.
 *
 * @example
 * import { Identity, signMessage, verifyMessage, seal, open } from './core/identity/index.ts'
 * const me = await Identity.generate()
 * const sig = await signMessage(me, 'mainnet', 'hello', payload)
 * await verifyMessage(me.publicKey, 'mainnet', 'hello', payload, sig) // true
 */
export { IdentityError, IDENTITY_ERROR_CODES } from './errors.ts'
export type { IdentityErrorCode } from './errors.ts'
export {
  verifyEd25519, isCanonicalPoint, isSmallOrderPoint, isCanonicalScalar,
  ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH
} from './ed25519.ts'
export { nodeIdFromPublicKey, publicKeyFromNodeId, isNodeId, NODE_ID_PREFIX, NODE_ID_LENGTH } from './node-id.ts'
export { signedBytes, signMessage, verifyMessage, SIGNING_PROTOCOL_TAG, MAX_DOMAIN_FIELD_LENGTH } from './domain.ts'
export type { MessageSigner } from './domain.ts'
export {
  Identity, verifyAgreementBinding, loadOrCreateIdentity,
  IDENTITY_FILE_VERSION, AGREEMENT_BINDING_TYPE, X25519_PUBLIC_KEY_LENGTH
} from './keys.ts'
export { seal, open, SEAL_VERSION, SEAL_OVERHEAD } from './seal.ts'
export type { SealRecipient, SealOptions } from './seal.ts'
export { PairBox, BOX_VERSION, BOX_OVERHEAD, BOX_KEY_ID_LENGTH, DEFAULT_BOX_PEERS, DEFAULT_MESSAGES_PER_KEY } from './box.ts'
export type { BoxPeer, PairBoxOptions } from './box.ts'
export { PeerKeys, DEFAULT_PEER_KEYS } from './peer-keys.ts'
