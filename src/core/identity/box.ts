/**
 * Pair boxes: messages sealed from one node to another under a key both derive from their static
 * X25519 agreement keys, as NaCl's crypto_box does, so that sealing a message costs one AES-GCM
 * call instead of seal.ts's fresh key pair and X25519 per message. For a stream of task messages
 * between the same peers (a submitter and its workers) that is what keeps sealing cheap.
 *
 *   shared  = X25519(my agreement key, peer's agreement key)      rejected if all zero (RFC 7748 §6.1)
 *   key     = HKDF-SHA-256(shared, salt = keyId,
 *                          info = signedBytes(networkId, 'box/1', sender ‖ senderAgree ‖ recipient ‖ recipientAgree))
 *   boxed   = 0x01 ‖ keyId (16 random bytes) ‖ iv (12 random bytes) ‖ AES-256-GCM(key, iv, plaintext, aad)
 *   aad     = signedBytes(networkId, 'box/1/aad', 0x01 ‖ keyId ‖ sender ‖ recipient ‖ context)
 *
 * (sender and recipient are Ed25519 public keys; senderAgree and recipientAgree their X25519 keys.)
 *
 * - The key is one-way: the info names the sender first, so A→B and B→A use different keys and a
 *   message cannot be reflected back to its sender as the peer's.
 * - The key id: a static-static key lives as long as both identities, across restarts, while
 *   AES-GCM with random 96-bit IVs is safe for at most 2^32 messages per key (NIST SP 800-38D
 *   §8.3). So each sender draws a random 128-bit key id per peer (again every
 *   `maxMessagesPerKey` messages, and at every start): (key id, IV) is a 224-bit random nonce, as
 *   XAES-256-GCM (C2SP) derives a key per nonce prefix. A receiver derives each key id it sees
 *   once and caches it (bounded), only after a message under it opened.
 * - The additional data binds the ciphertext to its sender, its recipient, the network and a
 *   caller's `context` (the task protocol puts the task id and message kind there), so a boxed
 *   message cannot be moved to another task, kind, peer or network.
 *
 * The derived AES keys are kept as bytes in this object (node:crypto wants a KeyObject made from
 * bytes), not as CryptoKeys: they are per-pair session keys, and the identity's own X25519
 * private key stays a WebCrypto key, used only for the X25519 step and never read here.
 *
 * A peer's agreement key must be bound to its Ed25519 key (verifyAgreementBinding, or a signed
 * field that names it) before anything is sealed to it. Every failure to open is the same error,
 * ERR_SEAL_OPEN_FAILED, as in seal.ts.
 */
import { concatBytes, equalBytes, toKey } from '../bytes.ts'
import { aesGcmOpen, aesGcmSeal } from './aes-gcm.ts'
import { IdentityError } from './errors.ts'
import { agreeHkdfKey } from './seal.ts'
import { signedBytes } from './domain.ts'
import { ED25519_PUBLIC_KEY_LENGTH } from './ed25519.ts'
import { agreementPrivateKey, X25519_PUBLIC_KEY_LENGTH } from './keys.ts'
import type { Identity } from './keys.ts'
import { asBufferSource } from './webcrypto.ts'
import type { WebCryptoKey } from './webcrypto.ts'

/** The version byte every boxed message starts with. @example boxed[0] === BOX_VERSION */
export const BOX_VERSION = 1
/** Length of a key id, bytes. @example boxed.subarray(1, 1 + BOX_KEY_ID_LENGTH) */
export const BOX_KEY_ID_LENGTH = 16
const IV_LENGTH = 12
const TAG_LENGTH = 16
const HEADER_LENGTH = 1 + BOX_KEY_ID_LENGTH + IV_LENGTH
/** Bytes a box adds to its plaintext: header and GCM tag, 45. @example boxed.length === BOX_OVERHEAD + plaintext.length */
export const BOX_OVERHEAD = HEADER_LENGTH + TAG_LENGTH
const KEY_TYPE = 'box/1'
const AAD_TYPE = 'box/1/aad'
/** Default number of peers whose keys a box keeps. */
export const DEFAULT_BOX_PEERS = 1024
/** Messages sealed under one key id before a sender draws another (far below SP 800-38D's 2^32). */
export const DEFAULT_MESSAGES_PER_KEY = 2 ** 28

/**
 * A peer to seal to or open from: its Ed25519 public key and the X25519 key bound to it.
 *
 * @example
 * const peer: BoxPeer = { publicKey: worker.publicKey, agreementPublicKey: worker.agreementPublicKey }
 */
export interface BoxPeer {
  readonly publicKey: Uint8Array
  readonly agreementPublicKey: Uint8Array
}

/** How a {@link PairBox} runs. @example new PairBox(me, { networkId: 'mainnet' }) */
export interface PairBoxOptions {
  readonly networkId: string
  /** Peers whose shared secrets and keys are kept (the oldest go first). Default 1024. */
  readonly maxPeers?: number
  /** Messages sealed to one peer under one key id before a fresh key id. Default 2^28. */
  readonly maxMessagesPerKey?: number
  /**
   * Random bytes for key ids and IVs. Default crypto.getRandomValues; a known-answer test passes a
   * fixed one. Never a seeded source in a running node: replayed after a restart it would repeat
   * (key id, IV) under the same static keys, and a repeated GCM nonce gives the key away.
   */
  readonly randomBytes?: (n: number) => Uint8Array
}

/** One direction's key under one key id, the fixed start of its additional data, and whose it is. */
interface DirectionKey { readonly key: Uint8Array, readonly aadPrefix: Uint8Array, readonly sender: BoxPeer }
/** The key a sender seals to one peer under, and how often it has been used. */
interface Outgoing { readonly keyId: Uint8Array, readonly peerAgreement: Uint8Array, readonly key: Promise<DirectionKey>, used: number }

/**
 * A Map of at most `limit` entries that forgets the oldest insertion first. Hits do not reorder
 * (that cost a delete and an insert per box): a busy peer that is forgotten costs one HKDF.
 */
class BoundedMap<V> {
  readonly #map = new Map<string, V>()
  readonly #limit: number
  constructor (limit: number) { this.#limit = limit }
  get (key: string): V | undefined { return this.#map.get(key) }
  set (key: string, value: V): void {
    this.#map.delete(key)
    this.#map.set(key, value)
    if (this.#map.size > this.#limit) this.#map.delete(this.#map.keys().next().value as string)
  }
  delete (key: string): void { this.#map.delete(key) }
  get size (): number { return this.#map.size }
}

function checkPeer (peer: BoxPeer): void {
  if (!(peer.publicKey instanceof Uint8Array) || peer.publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new IdentityError('ERR_BAD_KEY_LENGTH', `an Ed25519 public key is ${ED25519_PUBLIC_KEY_LENGTH} bytes`)
  }
  if (!(peer.agreementPublicKey instanceof Uint8Array) || peer.agreementPublicKey.length !== X25519_PUBLIC_KEY_LENGTH) {
    throw new IdentityError('ERR_BAD_AGREEMENT_KEY', `an X25519 public key is ${X25519_PUBLIC_KEY_LENGTH} bytes`)
  }
}

function openFailed (cause?: unknown): IdentityError {
  return new IdentityError('ERR_SEAL_OPEN_FAILED', 'sealed payload did not open', cause === undefined ? undefined : { cause })
}

/**
 * Seals messages from one identity to its peers and opens theirs. Keeps, per peer, the X25519
 * shared secret (as an HKDF key) and the AES-GCM keys derived from it, bounded by `maxPeers`
 * (oldest first).
 *
 * @example
 * const box = new PairBox(me, { networkId: 'mainnet' })
 * const boxed = await box.seal(worker, payload, context)
 * const payload = await workerBox.open(submitter, boxed, context)
 */
export class PairBox {
  readonly #identity: Identity
  readonly #networkId: string
  readonly #maxMessagesPerKey: number
  readonly #randomBytes: (n: number) => Uint8Array
  /** Per peer: the shared secret as an HKDF key, or null when the peer's key is unusable. */
  readonly #shared: BoundedMap<Promise<WebCryptoKey | null>>
  readonly #outgoing: BoundedMap<Outgoing>
  readonly #incoming: BoundedMap<DirectionKey>
  #binding: Promise<Uint8Array> | undefined

  constructor (identity: Identity, options: PairBoxOptions) {
    this.#identity = identity
    this.#networkId = options.networkId
    signedBytes(options.networkId, KEY_TYPE, new Uint8Array(0)) // throws ERR_BAD_DOMAIN for a bad network id
    const maxPeers = options.maxPeers ?? DEFAULT_BOX_PEERS
    this.#maxMessagesPerKey = options.maxMessagesPerKey ?? DEFAULT_MESSAGES_PER_KEY
    if (!Number.isSafeInteger(maxPeers) || maxPeers < 1) throw new RangeError('maxPeers must be a positive integer')
    if (!Number.isSafeInteger(this.#maxMessagesPerKey) || this.#maxMessagesPerKey < 1 || this.#maxMessagesPerKey > 2 ** 32) {
      throw new RangeError('maxMessagesPerKey must be an integer in 1..2^32')
    }
    this.#randomBytes = options.randomBytes ?? pooledRandom()
    this.#shared = new BoundedMap(maxPeers)
    this.#outgoing = new BoundedMap(maxPeers)
    // A sender normally keeps one key id per session; room for a restart or two per peer.
    this.#incoming = new BoundedMap(maxPeers * 2)
  }

  /** This box's own identity, as a peer sees it. @example peerBox.open(box.self, boxed, ctx) */
  get self (): BoxPeer {
    return { publicKey: this.#identity.publicKey, agreementPublicKey: this.#identity.agreementPublicKey }
  }

  /**
   * This identity's agreement-key binding on this box's network (Identity.bindingSignature),
   * signed once and remembered: what a peer needs to verify before sealing to this node.
   *
   * @example
   * send({ agree: me.agreementPublicKey, binding: await box.binding() })
   */
  async binding (): Promise<Uint8Array> {
    this.#binding ??= this.#identity.bindingSignature(this.#networkId)
    return await this.#binding
  }

  /** X25519 with a peer, as an HKDF key; null for a key of small order (or one WebCrypto refuses). */
  async #sharedWith (peer: BoxPeer): Promise<WebCryptoKey | null> {
    const id = toKey(peer.agreementPublicKey)
    let shared = this.#shared.get(id)
    if (shared === undefined) {
      shared = agreeHkdfKey(agreementPrivateKey(this.#identity), peer.agreementPublicKey)
      this.#shared.set(id, shared)
    }
    return await shared
  }

  /**
   * The raw AES-256 key from sender to recipient under a key id (kept as bytes: aes-gcm.ts), and
   * the additional data up to the caller's context: signedBytes(net, AAD_TYPE, x) is a fixed prefix
   * followed by x, so only the context is appended per message.
   */
  async #key (shared: WebCryptoKey, keyId: Uint8Array, sender: BoxPeer, recipient: BoxPeer): Promise<DirectionKey> {
    const info = signedBytes(this.#networkId, KEY_TYPE,
      concatBytes(sender.publicKey, sender.agreementPublicKey, recipient.publicKey, recipient.agreementPublicKey))
    const bits = await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: asBufferSource(keyId), info: asBufferSource(info) }, shared, 256)
    const aadPrefix = signedBytes(this.#networkId, AAD_TYPE, concatBytes(new Uint8Array([BOX_VERSION]), keyId, sender.publicKey, recipient.publicKey))
    return { key: new Uint8Array(bits), aadPrefix, sender }
  }

  /**
   * Seal `plaintext` to `to`, bound to `context`. Throws IdentityError ERR_BAD_KEY_LENGTH or
   * ERR_BAD_AGREEMENT_KEY for a malformed peer, ERR_BAD_AGREEMENT_KEY for a key of small order.
   *
   * @example
   * const boxed = await box.seal(worker, payload, utf8('task/assign'))
   */
  async seal (to: BoxPeer, plaintext: Uint8Array, context: Uint8Array): Promise<Uint8Array> {
    checkPeer(to)
    if (!(plaintext instanceof Uint8Array) || !(context instanceof Uint8Array)) throw new TypeError('plaintext and context must be Uint8Arrays')
    // Cache ids are short flat strings (one key, compared after): a concatenation of several would
    // be rehashed on every lookup, which cost more than the cipher here.
    const id = toKey(to.publicKey)
    let out = this.#outgoing.get(id)
    if (out === undefined || out.used >= this.#maxMessagesPerKey || !equalBytes(out.peerAgreement, to.agreementPublicKey)) {
      const shared = await this.#sharedWith(to)
      if (shared === null) throw new IdentityError('ERR_BAD_AGREEMENT_KEY', 'the peer agreement key is of small order (all-zero shared secret)')
      const keyId = this.#randomBytes(BOX_KEY_ID_LENGTH)
      if (!(keyId instanceof Uint8Array) || keyId.length !== BOX_KEY_ID_LENGTH) throw new TypeError('randomBytes returned the wrong length')
      out = { keyId: new Uint8Array(keyId), peerAgreement: new Uint8Array(to.agreementPublicKey), key: this.#key(shared, keyId, this.self, to), used: 0 }
      this.#outgoing.set(id, out)
    }
    out.used++
    const iv = this.#randomBytes(IV_LENGTH)
    if (!(iv instanceof Uint8Array) || iv.length !== IV_LENGTH) throw new TypeError('randomBytes returned the wrong length')
    const { key, aadPrefix } = await out.key
    // The cipher leaves room for the header in front: one allocation for the whole box.
    const boxed = await aesGcmSeal(key, iv, plaintext, concatBytes(aadPrefix, context), HEADER_LENGTH)
    boxed[0] = BOX_VERSION
    boxed.set(out.keyId, 1)
    boxed.set(iv, 1 + BOX_KEY_ID_LENGTH)
    return boxed
  }

  /**
   * Open a message `from` sealed to this identity with `context`. Throws IdentityError
   * ERR_SEAL_OPEN_FAILED for every message that does not open (tampered, truncated, another
   * version, sender, recipient, context or network), without saying which; ERR_BAD_KEY_LENGTH or
   * ERR_BAD_AGREEMENT_KEY for a malformed peer.
   *
   * @example
   * const payload = await box.open(submitter, boxed, utf8('task/assign'))
   */
  async open (from: BoxPeer, boxed: Uint8Array, context: Uint8Array): Promise<Uint8Array> {
    checkPeer(from)
    if (!(context instanceof Uint8Array)) throw new TypeError('context must be a Uint8Array')
    if (!(boxed instanceof Uint8Array) || boxed.length < BOX_OVERHEAD || boxed[0] !== BOX_VERSION) throw openFailed()
    const keyId = boxed.subarray(1, 1 + BOX_KEY_ID_LENGTH)
    const iv = boxed.subarray(1 + BOX_KEY_ID_LENGTH, HEADER_LENGTH)
    // By key id alone (128 random bits a sender draws), then checked to be this sender's.
    const id = toKey(keyId)
    let key = this.#incoming.get(id)
    if (key !== undefined && (!equalBytes(key.sender.publicKey, from.publicKey) || !equalBytes(key.sender.agreementPublicKey, from.agreementPublicKey))) key = undefined
    const known = key !== undefined
    if (key === undefined) {
      const shared = await this.#sharedWith(from)
      if (shared === null) throw openFailed()
      key = await this.#key(shared, keyId, { publicKey: new Uint8Array(from.publicKey), agreementPublicKey: new Uint8Array(from.agreementPublicKey) }, this.self)
    }
    let plaintext: Uint8Array
    try {
      plaintext = await aesGcmOpen(key.key, iv, boxed.subarray(HEADER_LENGTH), concatBytes(key.aadPrefix, context))
    } catch (err) {
      throw openFailed(err)
    }
    // Cached only once a message under it opened: forged key ids cost their sender, not the cache.
    if (!known) this.#incoming.set(id, key)
    return plaintext
  }
}

/**
 * CSPRNG bytes drawn 4 KiB at a time: one getRandomValues call per ~140 boxes instead of one per
 * box (it was ~1.5 µs a call here). A filled pool is replaced, never overwritten, so the views
 * handed out stay valid, and each byte is handed out once.
 */
function pooledRandom (): (n: number) => Uint8Array {
  let pool = new Uint8Array(0)
  let at = 0
  return (n) => {
    if (at + n > pool.length) { pool = crypto.getRandomValues(new Uint8Array(Math.max(4096, n))); at = 0 }
    const out = pool.subarray(at, at + n)
    at += n
    return out
  }
}


