/**
 * The only platform APIs the core may use: WebCrypto, TextEncoder/TextDecoder and a few globals
 * present alike in Node >= 22 and current browsers. The core is type-checked against this file
 * alone (tsconfig.core.json), so importing `node:*`, touching the DOM or starting a timer in
 * src/core/ is a compile error.
 */

type BufferSource = ArrayBufferView<ArrayBuffer> | ArrayBuffer
type KeyUsage = 'decrypt' | 'deriveBits' | 'deriveKey' | 'encrypt' | 'sign' | 'unwrapKey' | 'verify' | 'wrapKey'
type KeyFormat = 'jwk' | 'pkcs8' | 'raw' | 'spki'
type KeyType = 'private' | 'public' | 'secret'

interface KeyAlgorithm { name: string }
interface Algorithm { name: string }
interface AesGcmParams extends Algorithm { iv: BufferSource; additionalData?: BufferSource; tagLength?: number }
interface HkdfParams extends Algorithm { hash: string; salt: BufferSource; info: BufferSource }
interface EcdhKeyDeriveParams extends Algorithm { public: CryptoKey }
interface AesKeyGenParams extends Algorithm { length: number }

interface CryptoKey {
  readonly algorithm: KeyAlgorithm
  readonly extractable: boolean
  readonly type: KeyType
  readonly usages: KeyUsage[]
}
interface CryptoKeyPair { privateKey: CryptoKey; publicKey: CryptoKey }

interface SubtleCrypto {
  decrypt (algorithm: AesGcmParams, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>
  deriveBits (algorithm: EcdhKeyDeriveParams | HkdfParams, baseKey: CryptoKey, length: number): Promise<ArrayBuffer>
  digest (algorithm: string | Algorithm, data: BufferSource): Promise<ArrayBuffer>
  encrypt (algorithm: AesGcmParams, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>
  exportKey (format: 'raw' | 'pkcs8' | 'spki', key: CryptoKey): Promise<ArrayBuffer>
  generateKey (algorithm: string | Algorithm, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKeyPair | CryptoKey>
  importKey (format: 'raw' | 'pkcs8' | 'spki', keyData: BufferSource, algorithm: string | Algorithm | AesKeyGenParams, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>
  sign (algorithm: string | Algorithm, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>
  verify (algorithm: string | Algorithm, key: CryptoKey, signature: BufferSource, data: BufferSource): Promise<boolean>
}

interface Crypto {
  readonly subtle: SubtleCrypto
  getRandomValues<T extends ArrayBufferView<ArrayBuffer>> (array: T): T
}

declare var crypto: Crypto

declare class TextEncoder { encode (input?: string): Uint8Array<ArrayBuffer> }
declare class TextDecoder {
  constructor (label?: string, options?: { fatal?: boolean, ignoreBOM?: boolean })
  decode (input?: ArrayBufferView | ArrayBuffer): string
}

interface AbortSignal {
  readonly aborted: boolean
  readonly reason: unknown
  throwIfAborted (): void
}
