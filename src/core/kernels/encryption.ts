/**
 * The `encryption` kernel: AES-256-GCM encrypt and decrypt through WebCrypto (`crypto.subtle`),
 * the same call in Node >= 22 and current browsers.
 *
 * Payload (canonical CBOR map, see {@link EncryptionPayload}):
 *
 *     { op: 'encrypt' | 'decrypt', key: bytes(32), iv: bytes(12), data: bytes, aad?: bytes }
 *
 * Output: `{ data: bytes }`: for `encrypt` the ciphertext followed by the 16-byte tag (WebCrypto's
 * layout, NIST SP 800-38D §7.1: C || T); for `decrypt` the plaintext.
 *
 * Choices, and why:
 * - AES-256 only (a 32-byte key), a 96-bit IV only and a 128-bit tag only. SP 800-38D §8.2
 *   recommends 96-bit IVs (other lengths go through GHASH and weaken the collision bound), and
 *   §5.2.1.2 / Appendix C warn against short tags. One shape means one answer per input.
 * - The SUBMITTER supplies the IV, so that the redundant workers of one task produce identical
 *   ciphertext and the comparator can demand exact bytes. The submitter therefore owns IV
 *   uniqueness: an IV must NEVER repeat under one key. A repeat reveals the XOR of the two
 *   plaintexts and the GHASH key, which lets anyone forge tags for that key (Joux, "Authentication
 *   failures in NIST version of GCM", 2006; SP 800-38D §8). The kernel is stateless and cannot
 *   detect a repeat across tasks. Use a fresh random 12-byte IV per message
 *   (`crypto.getRandomValues`), and at most 2^32 random IVs per key (SP 800-38D §8.3), or a counter.
 * - The workers see the key and the plaintext: this kernel offloads the work of encrypting, it does
 *   not hide the data from the workers that run it (task payloads are encrypted only to them).
 *
 * Limits: `data` at most {@link MAX_ENCRYPTION_DATA_BYTES} (64 MiB), `aad` at most
 * {@link MAX_ENCRYPTION_AAD_BYTES} (1 MiB); more is `ERR_KERNEL_PAYLOAD_TOO_LARGE` (split the
 * message, as the price table's per-task maximum expects). Size: `data.length + aad.length`, the
 * bytes the cipher processes, in the price table's unit 'byte'.
 *
 * Comparator: exact bytes (AES-GCM is deterministic given key, IV, AAD and input).
 */
import { encodeCanonical } from '../codec/index.ts'
import type { CborValue } from '../codec/index.ts'
import { equalBytes } from '../bytes.ts'
import { KernelError } from './errors.ts'
import { PayloadFields } from './fields.ts'
import type { Kernel, KernelRunOptions } from './types.ts'

/** Largest `data` one task may carry: 64 MiB. @example MAX_ENCRYPTION_DATA_BYTES === 67_108_864 */
export const MAX_ENCRYPTION_DATA_BYTES = 64 * 1024 * 1024

/** Largest `aad` one task may carry: 1 MiB. @example MAX_ENCRYPTION_AAD_BYTES === 1_048_576 */
export const MAX_ENCRYPTION_AAD_BYTES = 1024 * 1024

/** AES-256 key length in bytes. @example AES_256_KEY_BYTES === 32 */
export const AES_256_KEY_BYTES = 32

/** GCM IV length in bytes (96 bits, SP 800-38D §8.2). @example GCM_IV_BYTES === 12 */
export const GCM_IV_BYTES = 12

/** GCM tag length in bytes (128 bits), appended to the ciphertext. @example GCM_TAG_BYTES === 16 */
export const GCM_TAG_BYTES = 16

// The payload is data + aad + key + iv + a few dozen bytes of CBOR framing.
const MAX_PAYLOAD_BYTES = MAX_ENCRYPTION_DATA_BYTES + MAX_ENCRYPTION_AAD_BYTES + 256
const MAX_OUTPUT_BYTES = MAX_ENCRYPTION_DATA_BYTES + GCM_TAG_BYTES + 64

/** What an encryption task asks for. @example const p: EncryptionPayload = { op: 'encrypt', key, iv, data } */
export interface EncryptionPayload {
  readonly op: 'encrypt' | 'decrypt'
  /** 32 bytes (AES-256). */
  readonly key: Uint8Array
  /** 12 bytes, never repeated under `key` (see the module comment). */
  readonly iv: Uint8Array
  /** Plaintext (encrypt) or ciphertext || 16-byte tag (decrypt). */
  readonly data: Uint8Array
  /** Additional authenticated data: authenticated, not encrypted, not part of the output. */
  readonly aad?: Uint8Array
}

/** What an encryption task returns. @example decodeEncryptionOutput(out).data */
export interface EncryptionOutput {
  /** Ciphertext || tag (encrypt) or plaintext (decrypt). */
  readonly data: Uint8Array
}

/**
 * Build an encryption payload (validates it, so a bad one fails at the client).
 *
 * @example
 * const iv = crypto.getRandomValues(new Uint8Array(12))
 * const payload = encodeEncryptionPayload({ op: 'encrypt', key, iv, data: utf8('hello') })
 */
export function encodeEncryptionPayload (payload: EncryptionPayload): Uint8Array {
  const map: Record<string, CborValue> = { op: payload.op, key: payload.key, iv: payload.iv, data: payload.data }
  if (payload.aad !== undefined) map.aad = payload.aad
  const bytes = encodeCanonical(map)
  parsePayload(bytes)
  return bytes
}

/**
 * Read an encryption output. Throws `ERR_KERNEL_BAD_PAYLOAD` for bytes that are not one.
 *
 * @example
 * const { data } = decodeEncryptionOutput(await encryptionKernel.run(payload))
 */
export function decodeEncryptionOutput (bytes: Uint8Array): EncryptionOutput {
  const f = PayloadFields.decode(bytes, { maxBytes: MAX_OUTPUT_BYTES, what: 'encryption output' }).only(['data'])
  return { data: f.bytes('data') }
}

/**
 * The `encryption` kernel (AES-256-GCM; module comment for the payload, limits and IV rule).
 *
 * @example
 * const out = decodeEncryptionOutput(await encryptionKernel.run(encodeEncryptionPayload({ op: 'encrypt', key, iv, data })))
 */
export const encryptionKernel: Kernel = {
  type: 'encryption',

  size (payload: Uint8Array): number {
    const p = parsePayload(payload)
    return p.data.length + (p.aad?.length ?? 0)
  },

  async run (payload: Uint8Array, options?: KernelRunOptions): Promise<Uint8Array> {
    const p = parsePayload(payload)
    options?.signal?.throwIfAborted()
    const result = await aesGcm(p)
    return encodeCanonical({ data: result })
  },

  agree (a: Uint8Array, b: Uint8Array): boolean {
    try {
      return equalBytes(decodeEncryptionOutput(a).data, decodeEncryptionOutput(b).data)
    } catch {
      return false
    }
  }
}

async function aesGcm (p: EncryptionPayload): Promise<Uint8Array> {
  // WebCrypto copies its inputs; the key is imported non-extractable and used once.
  const usage = p.op === 'encrypt' ? 'encrypt' : 'decrypt'
  const key = await crypto.subtle.importKey('raw', asBufferSource(p.key), { name: 'AES-GCM' }, false, [usage])
  const params = p.aad === undefined
    ? { name: 'AES-GCM', iv: asBufferSource(p.iv), tagLength: GCM_TAG_BYTES * 8 }
    : { name: 'AES-GCM', iv: asBufferSource(p.iv), additionalData: asBufferSource(p.aad), tagLength: GCM_TAG_BYTES * 8 }
  if (p.op === 'encrypt') return new Uint8Array(await crypto.subtle.encrypt(params, key, asBufferSource(p.data)))
  try {
    return new Uint8Array(await crypto.subtle.decrypt(params, key, asBufferSource(p.data)))
  } catch (err) {
    // WebCrypto reports a tag mismatch as an OperationError (W3C WebCrypto §30.4.3 step 9 / AES-GCM decrypt).
    throw new KernelError('ERR_KERNEL_DECRYPT_FAILED', 'the ciphertext does not authenticate under this key, IV and associated data', { cause: err })
  }
}

/** Validate a payload completely and return its fields: every type first, then lengths and limits. */
function parsePayload (payload: Uint8Array): EncryptionPayload {
  const f = PayloadFields.decode(payload, { maxBytes: MAX_PAYLOAD_BYTES, what: 'encryption payload' }).only(['data', 'iv', 'key', 'op'], ['aad'])
  const op = f.choice('op', ['encrypt', 'decrypt'])
  const key = f.bytes('key')
  const iv = f.bytes('iv')
  const data = f.bytes('data')
  const aad = f.has('aad') ? f.bytes('aad') : undefined
  if (key.length !== AES_256_KEY_BYTES) throw f.error(`key must be ${AES_256_KEY_BYTES} bytes (AES-256), got ${key.length}`, 'ERR_KERNEL_BAD_PARAMETER')
  if (iv.length !== GCM_IV_BYTES) throw f.error(`iv must be ${GCM_IV_BYTES} bytes (96 bits), got ${iv.length}`, 'ERR_KERNEL_BAD_PARAMETER')
  if (data.length > MAX_ENCRYPTION_DATA_BYTES) throw f.error(`data is ${data.length} bytes, more than ${MAX_ENCRYPTION_DATA_BYTES}`, 'ERR_KERNEL_PAYLOAD_TOO_LARGE')
  if (aad !== undefined && aad.length > MAX_ENCRYPTION_AAD_BYTES) throw f.error(`aad is ${aad.length} bytes, more than ${MAX_ENCRYPTION_AAD_BYTES}`, 'ERR_KERNEL_PAYLOAD_TOO_LARGE')
  if (op === 'decrypt' && data.length < GCM_TAG_BYTES) {
    throw f.error(`a ciphertext to decrypt carries its ${GCM_TAG_BYTES}-byte tag, got ${data.length} bytes`)
  }
  return aad === undefined ? { op, key, iv, data } : { op, key, iv, data, aad }
}

/** WebCrypto takes views of a plain ArrayBuffer; copy only a view of anything else (a SharedArrayBuffer). */
function asBufferSource (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? bytes as Uint8Array<ArrayBuffer> : new Uint8Array(bytes)
}
