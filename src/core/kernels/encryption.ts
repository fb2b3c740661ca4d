/**
 * The `encryption` kernel: AES-256-GCM encrypt and decrypt, through node:crypto where the runtime
 * has it (Node >= 22.3) and through WebCrypto (`crypto.subtle`) everywhere else.
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
 *
 * Engine: both engines compute the same function, AES-256 in GCM (NIST SP 800-38D) with a 96-bit
 * IV (J0 = IV || 0^31 || 1, §7.1 step 2) and a 128-bit tag, so their outputs are bit-identical
 * (test/core/kernels/encryption-engines.test.ts checks it). node:crypto is preferred where it
 * exists because it is the same OpenSSL that Node's WebCrypto calls, without WebCrypto's costs in
 * Node: `subtle.encrypt` copies its input, runs on the libuv threadpool and copies its result into
 * a fresh ArrayBuffer, which held it to ~0.5-0.7 of `createCipheriv` on this project's bench. It is
 * reached through `process.getBuiltinModule` (Node >= 22.3), never a static `node:` import, so this
 * module still loads unchanged in a browser, and it is used only after it passes a known-answer
 * test (McGrew-Viega test case 14) once, so a runtime with a look-alike `process` falls back to
 * WebCrypto. The output map's head is written by hand (5 to 11 bytes, checked against
 * `encodeCanonical` by the tests) so that the cipher's output is written once, straight into the
 * output bytes, rather than assembled and then copied again by a CBOR encoder.
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
 * The `encryption` kernel (AES-256-GCM; module comment for the payload, limits, IV rule and engine).
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
    return runWith(selectEngine(), payload, options)
  },

  agree (a: Uint8Array, b: Uint8Array): boolean {
    try {
      return equalBytes(decodeEncryptionOutput(a).data, decodeEncryptionOutput(b).data)
    } catch {
      return false
    }
  }
}

/**
 * @internal The AES-256-GCM engines this module has (see the module comment), for the tests and
 * the benchmark. @example const e: AesGcmEngineName = 'webcrypto'
 */
export type AesGcmEngineName = 'node:crypto' | 'webcrypto'

/**
 * @internal The engine `encryptionKernel.run` uses in this runtime: 'node:crypto' in Node >= 22.3,
 * 'webcrypto' elsewhere. Chosen once, on first use.
 *
 * @example
 * aesGcmEngine() // 'node:crypto' under Node 24
 */
export function aesGcmEngine (): AesGcmEngineName {
  return selectEngine().name
}

/**
 * @internal `encryptionKernel.run` with a chosen engine, so the tests can hold the engines to the
 * same answers and the benchmark can time each. Same payload, output and errors as `run`; asking for
 * 'node:crypto' where the runtime lacks it is `ERR_KERNEL_BAD_PARAMETER`.
 *
 * @example
 * const viaWebCrypto = await runEncryptionWith('webcrypto', payload)
 */
export async function runEncryptionWith (engine: AesGcmEngineName, payload: Uint8Array, options?: KernelRunOptions): Promise<Uint8Array> {
  if (engine === 'webcrypto') return runWith(WEBCRYPTO_ENGINE, payload, options)
  const node = selectEngine()
  if (node.name !== 'node:crypto') throw new KernelError('ERR_KERNEL_BAD_PARAMETER', 'the node:crypto AES-GCM engine is not available in this runtime')
  return runWith(node, payload, options)
}

async function runWith (engine: Engine, payload: Uint8Array, options: KernelRunOptions | undefined): Promise<Uint8Array> {
  const p = parsePayload(payload)
  options?.signal?.throwIfAborted()
  const resultLength = p.op === 'encrypt' ? p.data.length + GCM_TAG_BYTES : p.data.length - GCM_TAG_BYTES
  const head = outputHeadLength(resultLength)
  const out = await engine.run(p, head)
  writeOutputHead(out, resultLength)
  return out
}

// ---- The output map's head -------------------------------------------------------------------

// The output is the canonical CBOR (RFC 8949 §4.2.1) of { data: bytes }: a map of one pair (0xa1),
// the key as a 4-byte text string (0x64 'data'), then the byte string's head (§3.1 major type 2,
// shortest argument) and its bytes. A result is at most 64 MiB + 16 bytes, below 2^32.
const DATA_KEY_HEAD = [0xa1, 0x64, 0x64, 0x61, 0x74, 0x61] as const

function outputHeadLength (n: number): number {
  return DATA_KEY_HEAD.length + (n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5)
}

function writeOutputHead (out: Uint8Array, n: number): void {
  out.set(DATA_KEY_HEAD, 0)
  const at = DATA_KEY_HEAD.length
  if (n < 24) {
    out[at] = 0x40 | n
  } else if (n < 0x100) {
    out[at] = 0x58; out[at + 1] = n
  } else if (n < 0x10000) {
    out[at] = 0x59; out[at + 1] = n >>> 8; out[at + 2] = n & 0xff
  } else {
    out[at] = 0x5a; out[at + 1] = n >>> 24; out[at + 2] = (n >>> 16) & 0xff; out[at + 3] = (n >>> 8) & 0xff; out[at + 4] = n & 0xff
  }
}

// ---- Engines -----------------------------------------------------------------------------------

/**
 * One AES-256-GCM implementation. `run` returns `head` + result-length bytes whose tail holds the
 * result (C || T for encrypt, the plaintext for decrypt); the first `head` bytes are the caller's to
 * write (they may hold anything until it does). A tag mismatch throws `ERR_KERNEL_DECRYPT_FAILED`.
 */
interface Engine {
  readonly name: AesGcmEngineName
  run (p: EncryptionPayload, head: number): Promise<Uint8Array> | Uint8Array
}

const WEBCRYPTO_ENGINE: Engine = {
  name: 'webcrypto',
  async run (p, head) {
    // WebCrypto copies its inputs; the key is imported non-extractable and used once.
    const usage = p.op === 'encrypt' ? 'encrypt' : 'decrypt'
    const key = await crypto.subtle.importKey('raw', asBufferSource(p.key), { name: 'AES-GCM' }, false, [usage])
    const params = p.aad === undefined
      ? { name: 'AES-GCM', iv: asBufferSource(p.iv), tagLength: GCM_TAG_BYTES * 8 }
      : { name: 'AES-GCM', iv: asBufferSource(p.iv), additionalData: asBufferSource(p.aad), tagLength: GCM_TAG_BYTES * 8 }
    let result: ArrayBuffer
    if (p.op === 'encrypt') {
      result = await crypto.subtle.encrypt(params, key, asBufferSource(p.data))
    } else {
      try {
        result = await crypto.subtle.decrypt(params, key, asBufferSource(p.data))
      } catch (err) {
        // WebCrypto reports a tag mismatch as an OperationError (W3C WebCrypto, AES-GCM decrypt step 5).
        throw decryptFailed(err)
      }
    }
    // One copy, behind the head: WebCrypto hands back a fresh ArrayBuffer with no room before it.
    const out = new Uint8Array(head + result.byteLength)
    out.set(new Uint8Array(result), head)
    return out
  }
}

/** The parts of node:crypto's Cipher/Decipher this module uses (structural: core has no Node types). */
interface NodeGcmStream {
  update (data: Uint8Array): Uint8Array
  final (): Uint8Array
  setAAD (aad: Uint8Array): unknown
}
interface NodeGcmCipher extends NodeGcmStream { getAuthTag (): Uint8Array }
interface NodeGcmDecipher extends NodeGcmStream { setAuthTag (tag: Uint8Array): unknown }
interface NodeCryptoModule {
  createCipheriv (algorithm: 'aes-256-gcm', key: Uint8Array, iv: Uint8Array, options: { authTagLength: number }): NodeGcmCipher
  createDecipheriv (algorithm: 'aes-256-gcm', key: Uint8Array, iv: Uint8Array, options: { authTagLength: number }): NodeGcmDecipher
}
interface NodeBufferModule { Buffer: { allocUnsafeSlow (size: number): Uint8Array } }
interface NodeLikeGlobal { process?: { getBuiltinModule?: (id: string) => unknown } }

// Encrypt in slices so each `update` result is small enough to stay in cache until it is copied into
// the output; one `update` over the whole message would write it to memory twice. 128 KiB was the
// fastest on the bench (32 KiB to 1 MiB were within ~15% at 16 MiB messages).
const NODE_SLICE_BYTES = 128 * 1024
// Outputs at least this long are allocated without zero-filling (allocUnsafeSlow), since every byte
// is written before the array leaves this module (checked below); zero-filling 1 MiB cost ~25% of
// the encryption. Shorter ones are not worth a native call.
const UNINITIALIZED_FROM_BYTES = 4096

function nodeEngine (nodeCrypto: NodeCryptoModule, nodeBuffer: NodeBufferModule | undefined): Engine {
  const allocUnsafe = nodeBuffer?.Buffer.allocUnsafeSlow
  const allocate = (n: number): Uint8Array => {
    if (allocUnsafe === undefined || n < UNINITIALIZED_FROM_BYTES) return new Uint8Array(n)
    // A plain Uint8Array view, not a Buffer (Buffer#slice does not copy); allocUnsafeSlow owns its ArrayBuffer.
    const b = allocUnsafe(n)
    return new Uint8Array(b.buffer, b.byteOffset, n)
  }
  const options = { authTagLength: GCM_TAG_BYTES }
  return {
    name: 'node:crypto',
    run (p, head) {
      if (p.op === 'encrypt') {
        const cipher = nodeCrypto.createCipheriv('aes-256-gcm', p.key, p.iv, options)
        if (p.aad !== undefined) cipher.setAAD(p.aad)
        const out = allocate(head + p.data.length + GCM_TAG_BYTES)
        let at = pump(cipher, p.data, out, head)
        at = put(out, at, cipher.final())
        at = put(out, at, cipher.getAuthTag())
        return filled(out, at)
      }
      const n = p.data.length - GCM_TAG_BYTES
      const decipher = nodeCrypto.createDecipheriv('aes-256-gcm', p.key, p.iv, options)
      decipher.setAuthTag(p.data.subarray(n))
      if (p.aad !== undefined) decipher.setAAD(p.aad)
      const out = allocate(head + n)
      let at = pump(decipher, p.data.subarray(0, n), out, head)
      try {
        // OpenSSL compares the tag in EVP_DecryptFinal_ex; node:crypto throws on a mismatch.
        at = put(out, at, decipher.final())
      } catch (err) {
        throw decryptFailed(err)
      }
      return filled(out, at)
    }
  }
}

function pump (stream: NodeGcmStream, data: Uint8Array, out: Uint8Array, at: number): number {
  for (let i = 0; i < data.length; i += NODE_SLICE_BYTES) at = put(out, at, stream.update(data.subarray(i, i + NODE_SLICE_BYTES)))
  return at
}

function put (out: Uint8Array, at: number, chunk: Uint8Array): number {
  out.set(chunk, at)
  return at + chunk.length
}

/** The output may come from uninitialized memory: refuse to hand it out unless every byte was written. */
function filled (out: Uint8Array, end: number): Uint8Array {
  if (end !== out.length) throw new Error(`node:crypto AES-GCM wrote ${end} of ${out.length} output bytes`)
  return out
}

function decryptFailed (cause: unknown): KernelError {
  return new KernelError('ERR_KERNEL_DECRYPT_FAILED', 'the ciphertext does not authenticate under this key, IV and associated data', { cause })
}

let selected: Engine | undefined

/** node:crypto when the runtime offers it and it passes a known answer, else WebCrypto; once. */
function selectEngine (): Engine {
  if (selected === undefined) selected = nodeEngineIfSound() ?? WEBCRYPTO_ENGINE
  return selected
}

function nodeEngineIfSound (): Engine | undefined {
  try {
    const getBuiltinModule = (globalThis as unknown as NodeLikeGlobal).process?.getBuiltinModule
    if (typeof getBuiltinModule !== 'function') return undefined
    const nodeCrypto = getBuiltinModule('node:crypto') as NodeCryptoModule | undefined
    if (typeof nodeCrypto?.createCipheriv !== 'function' || typeof nodeCrypto.createDecipheriv !== 'function') return undefined
    const nodeBuffer = getBuiltinModule('node:buffer') as NodeBufferModule | undefined
    const engine = nodeEngine(nodeCrypto, typeof nodeBuffer?.Buffer?.allocUnsafeSlow === 'function' ? nodeBuffer : undefined)
    // McGrew-Viega test case 14: zero key and IV, one zero block -> C || T (SP 800-38D's GCM).
    const zero = { key: new Uint8Array(AES_256_KEY_BYTES), iv: new Uint8Array(GCM_IV_BYTES) }
    const sealed = engine.run({ op: 'encrypt', ...zero, data: new Uint8Array(16) }, 0) as Uint8Array
    if (!equalBytes(sealed, KNOWN_ANSWER)) return undefined
    const opened = engine.run({ op: 'decrypt', ...zero, data: sealed }, 0) as Uint8Array
    return opened.length === 16 && opened.every(b => b === 0) ? engine : undefined
  } catch {
    return undefined
  }
}

const KNOWN_ANSWER = new Uint8Array([
  0xce, 0xa7, 0x40, 0x3d, 0x4d, 0x60, 0x6b, 0x6e, 0x07, 0x4e, 0xc5, 0xd3, 0xba, 0xf3, 0x9d, 0x18,
  0xd0, 0xd1, 0xc8, 0xa7, 0x99, 0x99, 0x6b, 0xf0, 0x26, 0x5b, 0x98, 0xb5, 0xd4, 0x8a, 0xb9, 0x19
])

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
