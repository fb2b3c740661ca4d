/**
 * A node's identity: an Ed25519 key pair that signs (its public key is the node's name) and an
 * X25519 key pair that receives sealed payloads, both WebCrypto keys.
 *
 * The agreement key is a separate key rather than the Ed25519 key converted to Montgomery form:
 * WebCrypto cannot convert, and separate keys keep signing and key agreement from ever sharing
 * secret material. Others learn it through a signed binding ({@link Identity.bindingSignature}).
 *
 * The exported form is canonical CBOR (src/core/codec, RFC 8949 §4.2.1 deterministic encoding):
 *
 *   { v: 1, sign: Ed25519 PKCS#8, signPublic: 32 bytes, agree: X25519 PKCS#8, agreePublic: 32 bytes }
 *
 * The public keys are stored because WebCrypto cannot derive a public key from an imported
 * private key (without JWK); import checks they match the private keys, so a corrupt or spliced
 * file fails loudly instead of yielding a node that signs as someone else.
 */
import { decodeCanonical, encodeCanonical } from '../codec/index.ts'
import { equalBytes, utf8 } from '../bytes.ts'
import type { KeyStore } from '../../ports.ts'
import { IdentityError } from './errors.ts'
import { ED25519_PUBLIC_KEY_LENGTH, verifyEd25519 } from './ed25519.ts'
import { nodeIdFromPublicKey } from './node-id.ts'
import { signMessage, verifyMessage } from './domain.ts'
import { asBufferSource, generateKeyPair } from './webcrypto.ts'
import type { WebCryptoKey } from './webcrypto.ts'

/** Version of the exported identity format. @example decodeCanonical(bytes).v === IDENTITY_FILE_VERSION */
export const IDENTITY_FILE_VERSION = 1
/** Message type of the signature binding an agreement key to a signing key. @example signedBytes(net, AGREEMENT_BINDING_TYPE, agreementPublicKey) */
export const AGREEMENT_BINDING_TYPE = 'identity/agreement-key'
/** Length of a raw X25519 public key (RFC 7748 §5). @example key.length === X25519_PUBLIC_KEY_LENGTH */
export const X25519_PUBLIC_KEY_LENGTH = 32

// Far above a real file (~170 bytes); refuses to parse a huge blob someone put in its place.
const MAX_IDENTITY_FILE_LENGTH = 4096
const FILE_FIELDS = ['agree', 'agreePublic', 'sign', 'signPublic', 'v'] as const
const SELF_CHECK_MESSAGE = utf8('edge-net/identity/self-check')
// The X25519 base point u = 9 (RFC 7748 §4.1): X25519(k, 9) is k's public key.
const X25519_BASE_POINT = new Uint8Array(32)
X25519_BASE_POINT[0] = 9

function badFile (message: string, cause?: unknown): IdentityError {
  return new IdentityError('ERR_BAD_IDENTITY_FILE', message, cause === undefined ? undefined : { cause })
}

async function rawPublicKey (key: WebCryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey('raw', key))
}

// The X25519 private keys of identities, reachable by seal.ts through agreementPrivateKey() but
// not through the Identity object itself, so no caller can read raw ECDH output by accident.
const agreementKeys = new WeakMap<Identity, WebCryptoKey>()

/**
 * A node's key pairs. Create with {@link Identity.generate} or {@link Identity.import}.
 *
 * @example
 * const me = await Identity.generate()
 * const sig = await me.sign(utf8('hello'))
 * await verifyEd25519(me.publicKey, utf8('hello'), sig) // true
 */
export class Identity {
  /** Raw Ed25519 public key, 32 bytes: what the network knows this node by. */
  readonly publicKey: Uint8Array
  /** Raw X25519 public key, 32 bytes: what peers seal payloads to. */
  readonly agreementPublicKey: Uint8Array
  /** Printable id of {@link publicKey} (see nodeIdFromPublicKey). */
  readonly nodeId: string
  readonly #signingKey: WebCryptoKey

  private constructor (signingKey: WebCryptoKey, agreementKey: WebCryptoKey, publicKey: Uint8Array, agreementPublicKey: Uint8Array) {
    this.#signingKey = signingKey
    this.publicKey = publicKey
    this.agreementPublicKey = agreementPublicKey
    this.nodeId = nodeIdFromPublicKey(publicKey)
    agreementKeys.set(this, agreementKey)
    Object.freeze(this)
  }

  /**
   * A fresh identity from the platform's CSPRNG (WebCrypto generateKey).
   *
   * @example
   * const me = await Identity.generate()
   */
  static async generate (): Promise<Identity> {
    const signing = await generateKeyPair('Ed25519')
    const agreement = await generateKeyPair('X25519')
    return new Identity(signing.privateKey, agreement.privateKey,
      await rawPublicKey(signing.publicKey), await rawPublicKey(agreement.publicKey))
  }

  /**
   * Rebuild an identity from {@link Identity.export}'s bytes. Throws IdentityError
   * ERR_BAD_IDENTITY_FILE for anything else: garbage, truncation, another version, or public
   * keys that do not match the private keys.
   *
   * @example
   * const me = await Identity.import(await store.load())
   */
  static async import (bytes: Uint8Array): Promise<Identity> {
    if (!(bytes instanceof Uint8Array)) throw badFile('identity bytes must be a Uint8Array')
    if (bytes.length > MAX_IDENTITY_FILE_LENGTH) throw badFile(`identity file too large (${bytes.length} bytes)`)
    let decoded: unknown
    try {
      decoded = decodeCanonical(bytes, MAX_IDENTITY_FILE_LENGTH)
    } catch (err) {
      throw badFile('identity file is not canonical CBOR (truncated or corrupt)', err)
    }
    if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded) || decoded instanceof Uint8Array) {
      throw badFile('identity file is not a CBOR map')
    }
    const record = decoded as Record<string, unknown>
    const keys = Object.keys(record).sort()
    if (keys.length !== FILE_FIELDS.length || keys.some((k, i) => k !== FILE_FIELDS[i])) {
      throw badFile(`identity file fields are [${keys.join(', ')}], expected [${FILE_FIELDS.join(', ')}]`)
    }
    if (record.v !== IDENTITY_FILE_VERSION) throw badFile(`unknown identity file version ${String(record.v)}`)
    const { sign, signPublic, agree, agreePublic } = record
    if (!(sign instanceof Uint8Array) || !(agree instanceof Uint8Array) ||
        !(signPublic instanceof Uint8Array) || signPublic.length !== ED25519_PUBLIC_KEY_LENGTH ||
        !(agreePublic instanceof Uint8Array) || agreePublic.length !== X25519_PUBLIC_KEY_LENGTH) {
      throw badFile('identity file fields have the wrong types or lengths')
    }
    let signingKey: WebCryptoKey
    let agreementKey: WebCryptoKey
    try {
      signingKey = await crypto.subtle.importKey('pkcs8', asBufferSource(new Uint8Array(sign)), 'Ed25519', true, ['sign'])
      agreementKey = await crypto.subtle.importKey('pkcs8', asBufferSource(new Uint8Array(agree)), { name: 'X25519' }, true, ['deriveBits'])
    } catch (err) {
      throw badFile('identity file holds an unreadable private key', err)
    }
    // The stored public keys must belong to the private keys: sign-then-verify for Ed25519, and
    // X25519(k, 9) = public key for X25519 (RFC 7748 §6.1).
    const probe = new Uint8Array(await crypto.subtle.sign('Ed25519', signingKey, asBufferSource(SELF_CHECK_MESSAGE)))
    if (!(await verifyEd25519(signPublic, SELF_CHECK_MESSAGE, probe))) {
      throw badFile('identity file: Ed25519 public key does not match its private key')
    }
    const base = await crypto.subtle.importKey('raw', X25519_BASE_POINT, { name: 'X25519' }, true, [])
    const derived = new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: base }, agreementKey, 256))
    if (!equalBytes(derived, agreePublic)) {
      throw badFile('identity file: X25519 public key does not match its private key')
    }
    // copies, as plain Uint8Arrays: the decoded fields are views into the caller's bytes
    return new Identity(signingKey, agreementKey, new Uint8Array(signPublic), new Uint8Array(agreePublic))
  }

  /**
   * The secret bytes of this identity (see the module comment for the format). Keep them secret:
   * anyone holding them is this node.
   *
   * @example
   * await keyStore.save(await me.export())
   */
  async export (): Promise<Uint8Array> {
    const agreementKey = agreementKeys.get(this) as WebCryptoKey
    // A copy of our own: in Node the encoder's output is a view into a shared Buffer pool.
    return new Uint8Array(encodeCanonical({
      v: IDENTITY_FILE_VERSION,
      sign: new Uint8Array(await crypto.subtle.exportKey('pkcs8', this.#signingKey)),
      signPublic: this.publicKey,
      agree: new Uint8Array(await crypto.subtle.exportKey('pkcs8', agreementKey)),
      agreePublic: this.agreementPublicKey
    }))
  }

  /**
   * Sign raw bytes with Ed25519 (64-byte signature). Prefer signMessage, which adds domain
   * separation; sign raw bytes only for formats that carry their own.
   *
   * @example
   * const sig = await me.sign(signedBytes('mainnet', 'ledger/event', body))
   */
  async sign (message: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await crypto.subtle.sign('Ed25519', this.#signingKey, asBufferSource(message)))
  }

  /**
   * A signature binding this node's agreement key to its signing key on one network, so a peer
   * that knows only the node id can trust the key it seals to.
   *
   * @example
   * announce({ nodeId: me.nodeId, agreementPublicKey: me.agreementPublicKey, binding: await me.bindingSignature('mainnet') })
   */
  async bindingSignature (networkId: string): Promise<Uint8Array> {
    return await signMessage(this, networkId, AGREEMENT_BINDING_TYPE, this.agreementPublicKey)
  }
}

/**
 * Verify an agreement-key binding made by {@link Identity.bindingSignature}. Returns false for a
 * forged binding or one made on another network; throws for malformed arguments
 * (ERR_BAD_AGREEMENT_KEY, ERR_BAD_KEY_LENGTH, ERR_BAD_SIGNATURE_LENGTH, ERR_BAD_DOMAIN).
 *
 * @example
 * if (await verifyAgreementBinding('mainnet', peer.publicKey, peer.agreementPublicKey, peer.binding)) trust(peer)
 */
export async function verifyAgreementBinding (
  networkId: string, publicKey: Uint8Array, agreementPublicKey: Uint8Array, signature: Uint8Array
): Promise<boolean> {
  if (!(agreementPublicKey instanceof Uint8Array) || agreementPublicKey.length !== X25519_PUBLIC_KEY_LENGTH) {
    throw new IdentityError('ERR_BAD_AGREEMENT_KEY', `an X25519 public key is ${X25519_PUBLIC_KEY_LENGTH} bytes`)
  }
  return await verifyMessage(publicKey, networkId, AGREEMENT_BINDING_TYPE, agreementPublicKey, signature)
}

/**
 * @internal The X25519 private key of an identity, for seal.ts. Not exported by index.ts.
 *
 * @example
 * const key = agreementPrivateKey(identity) // a non-raw WebCrypto key, usable for deriveBits
 */
export function agreementPrivateKey (identity: Identity): WebCryptoKey {
  const key = agreementKeys.get(identity)
  if (key === undefined) throw new TypeError('not an Identity')
  return key
}

/**
 * Load the identity a KeyStore holds, or generate one and save it if it holds none. A store that
 * holds unreadable bytes fails with ERR_BAD_IDENTITY_FILE and is left as it is: replacing a
 * corrupt key silently would give the node a new name and orphan its credits.
 *
 * @example
 * const me = await loadOrCreateIdentity(new KeyFileStore('~/.edge-net/identity'))
 */
export async function loadOrCreateIdentity (store: KeyStore): Promise<Identity> {
  const existing = await store.load()
  if (existing !== null) return await Identity.import(existing)
  const identity = await Identity.generate()
  try {
    await store.save(await identity.export())
  } catch (err) {
    // Another process may have created the identity between our load and our save (the store
    // refuses to overwrite): then theirs is the identity, and we use it.
    const winner = await store.load()
    if (winner === null) throw err
    return await Identity.import(winner)
  }
  return identity
}
