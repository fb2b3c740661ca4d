/**
 * AES-256-GCM with a 96-bit IV and a 128-bit tag (NIST SP 800-38D), for pair boxes (box.ts):
 * through node:crypto where the runtime has it, through WebCrypto everywhere else, the same
 * function either way (ciphertext ‖ tag, WebCrypto's layout).
 *
 * Why two engines: a box holds one task message, a few hundred bytes, and in Node
 * `crypto.subtle.encrypt` runs on the libuv threadpool and copies in and out, ~70-80 µs a call on
 * this project's machine against ~3.5 µs for `createCipheriv` with a cached KeyObject: with four
 * boxes per replica, that hop alone cost the in-process task bench a quarter of its throughput. node:crypto is the
 * same OpenSSL Node's WebCrypto calls. It is reached through `process.getBuiltinModule` (Node >=
 * 22.3), never a static `node:` import, so the core still loads unchanged in a browser, and it is
 * used only after it passes a known answer (as src/core/kernels/encryption.ts does).
 *
 * Keys are raw bytes here (the box derives them with HKDF); each engine imports each key once (a
 * KeyObject, a CryptoKey), remembered while the box keeps the bytes.
 */
import { equalBytes } from '../bytes.ts'
import { asBufferSource } from './webcrypto.ts'
import type { WebCryptoKey } from './webcrypto.ts'

const TAG_LENGTH = 16

/** The parts of node:crypto used here (structural: the core has no Node types). */
interface NodeGcm { update (data: Uint8Array): Uint8Array, final (): Uint8Array, setAAD (aad: Uint8Array): unknown }
interface NodeCipher extends NodeGcm { getAuthTag (): Uint8Array }
interface NodeDecipher extends NodeGcm { setAuthTag (tag: Uint8Array): unknown }
/** A node:crypto KeyObject, opaque here. */
interface NodeKeyObject { readonly type: string }
interface NodeCrypto {
  createSecretKey (key: Uint8Array): NodeKeyObject
  createCipheriv (algorithm: 'aes-256-gcm', key: NodeKeyObject, iv: Uint8Array, options: { authTagLength: number }): NodeCipher
  createDecipheriv (algorithm: 'aes-256-gcm', key: NodeKeyObject, iv: Uint8Array, options: { authTagLength: number }): NodeDecipher
}
interface NodeLikeGlobal { process?: { getBuiltinModule?: (id: string) => unknown } }

/** One engine. `open` throws for a tag that does not verify. */
interface Engine {
  readonly name: 'node:crypto' | 'webcrypto'
  seal (key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, head: number): Promise<Uint8Array> | Uint8Array
  open (key: Uint8Array, iv: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array> | Uint8Array
}

// WebCrypto keys imported from raw key bytes, once per key (the box keeps the bytes alive).
const imported = new WeakMap<Uint8Array, Promise<WebCryptoKey>>()
function webKey (raw: Uint8Array): Promise<WebCryptoKey> {
  let key = imported.get(raw)
  if (key === undefined) {
    key = crypto.subtle.importKey('raw', asBufferSource(raw), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt'])
    imported.set(raw, key)
  }
  return key
}

const WEBCRYPTO: Engine = {
  name: 'webcrypto',
  async seal (key, iv, plaintext, aad, head) {
    const sealed = new Uint8Array(await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: asBufferSource(iv), additionalData: asBufferSource(aad), tagLength: TAG_LENGTH * 8 }, await webKey(key), asBufferSource(plaintext)))
    if (head === 0) return sealed
    const out = new Uint8Array(head + sealed.length)
    out.set(sealed, head)
    return out
  },
  async open (key, iv, sealed, aad) {
    return new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: asBufferSource(iv), additionalData: asBufferSource(aad), tagLength: TAG_LENGTH * 8 }, await webKey(key), asBufferSource(sealed)))
  }
}

function nodeEngine (nodeCrypto: NodeCrypto): Engine {
  const options = { authTagLength: TAG_LENGTH }
  // A KeyObject per key, made once: given raw bytes, createCipheriv wraps them in a new KeyObject
  // every call, which was ~11 of its ~14 µs for a box-sized message on this machine.
  const keyObjects = new WeakMap<Uint8Array, NodeKeyObject>()
  const keyObject = (raw: Uint8Array): NodeKeyObject => {
    let k = keyObjects.get(raw)
    if (k === undefined) { k = nodeCrypto.createSecretKey(raw); keyObjects.set(raw, k) }
    return k
  }
  return {
    name: 'node:crypto',
    seal (key, iv, plaintext, aad, head) {
      const cipher = nodeCrypto.createCipheriv('aes-256-gcm', keyObject(key), iv, options)
      cipher.setAAD(aad)
      const body = cipher.update(plaintext)
      const tail = cipher.final()
      const tag = cipher.getAuthTag()
      const out = new Uint8Array(head + body.length + tail.length + tag.length)
      out.set(body, head)
      out.set(tail, head + body.length)
      out.set(tag, head + body.length + tail.length)
      return out
    },
    open (key, iv, sealed, aad) {
      if (sealed.length < TAG_LENGTH) throw new Error('shorter than a tag')
      const n = sealed.length - TAG_LENGTH
      const decipher = nodeCrypto.createDecipheriv('aes-256-gcm', keyObject(key), iv, options)
      decipher.setAuthTag(sealed.subarray(n))
      decipher.setAAD(aad)
      const body = decipher.update(sealed.subarray(0, n))
      const tail = decipher.final() // OpenSSL checks the tag here and throws on a mismatch
      const out = new Uint8Array(body.length + tail.length)
      out.set(body, 0)
      out.set(tail, body.length)
      return out
    }
  }
}

// McGrew-Viega GCM test case 14 (AES-256): zero key and IV, one zero block -> C ‖ T.
const KNOWN_ANSWER = new Uint8Array([
  0xce, 0xa7, 0x40, 0x3d, 0x4d, 0x60, 0x6b, 0x6e, 0x07, 0x4e, 0xc5, 0xd3, 0xba, 0xf3, 0x9d, 0x18,
  0xd0, 0xd1, 0xc8, 0xa7, 0x99, 0x99, 0x6b, 0xf0, 0x26, 0x5b, 0x98, 0xb5, 0xd4, 0x8a, 0xb9, 0x19
])

function nodeEngineIfSound (): Engine | undefined {
  try {
    const getBuiltinModule = (globalThis as unknown as NodeLikeGlobal).process?.getBuiltinModule
    if (typeof getBuiltinModule !== 'function') return undefined
    const nodeCrypto = getBuiltinModule('node:crypto') as NodeCrypto | undefined
    if (typeof nodeCrypto?.createCipheriv !== 'function' || typeof nodeCrypto.createDecipheriv !== 'function' || typeof nodeCrypto.createSecretKey !== 'function') return undefined
    const engine = nodeEngine(nodeCrypto)
    const key = new Uint8Array(32)
    const iv = new Uint8Array(12)
    const sealed = engine.seal(key, iv, new Uint8Array(16), new Uint8Array(0), 0) as Uint8Array
    if (!equalBytes(sealed, KNOWN_ANSWER)) return undefined
    const opened = engine.open(key, iv, sealed, new Uint8Array(0)) as Uint8Array
    return opened.length === 16 && opened.every(b => b === 0) ? engine : undefined
  } catch {
    return undefined
  }
}

let selected: Engine | undefined
function engine (): Engine {
  selected ??= nodeEngineIfSound() ?? WEBCRYPTO
  return selected
}

/**
 * @internal AES-256-GCM encrypt: `head` bytes left for the caller (zero), then ciphertext ‖ 16-byte
 * tag. `key` is 32 bytes, `iv` 12.
 *
 * @example
 * const sealed = await aesGcmSeal(key, iv, plaintext, aad)
 */
export async function aesGcmSeal (key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, head = 0, which?: 'webcrypto'): Promise<Uint8Array> {
  return await (which === 'webcrypto' ? WEBCRYPTO : engine()).seal(key, iv, plaintext, aad, head)
}

/**
 * @internal AES-256-GCM decrypt of ciphertext ‖ tag; throws when the tag does not verify.
 *
 * @example
 * const plaintext = await aesGcmOpen(key, iv, sealed, aad)
 */
export async function aesGcmOpen (key: Uint8Array, iv: Uint8Array, sealed: Uint8Array, aad: Uint8Array, which?: 'webcrypto'): Promise<Uint8Array> {
  return await (which === 'webcrypto' ? WEBCRYPTO : engine()).open(key, iv, sealed, aad)
}

/** @internal The engine in use here: 'node:crypto' under Node >= 22.3. @example aesGcmEngineName() */
export function aesGcmEngineName (): 'node:crypto' | 'webcrypto' {
  return engine().name
}
