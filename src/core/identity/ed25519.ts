/**
 * Strict Ed25519 verification over WebCrypto (`crypto.subtle`, algorithm 'Ed25519').
 *
 * WebCrypto implementations differ in how much of RFC 8032 they enforce (Chalkias, Garillot and
 * Nikolaenko, "Taming the many EdDSAs", 2020): some accept S >= L, non-canonical point encodings
 * or small-order keys, and a ledger whose replicas disagree on which signatures are valid forks.
 * So the checks that make verification *strict* and *the same everywhere* are done here, in
 * byte comparisons before WebCrypto is asked, and WebCrypto only does the curve arithmetic:
 *
 * - S < L (RFC 8032 §5.1.7 step 1: "If any of the decodings fail (including S being out of
 *   range), the signature is invalid"); this is what makes signatures non-malleable.
 * - A and R are canonical encodings, y < p (RFC 8032 §5.1.3 step 1), and not x = 0 with the sign
 *   bit set (§5.1.3 step 4).
 * - Neither A nor R is a point of small order (the 8-torsion): under a small-order key a
 *   signature can verify for many messages without any secret, and a small-order R lets one
 *   signature verify under several keys. No honest signer produces either.
 *
 * Mixed-order keys (a prime-order point plus a torsion component) are not rejected: ruling them
 * out needs a full scalar multiplication by L per key; the cofactorless equation WebCrypto checks
 * is still deterministic for them, so replicas agree.
 */
import { IdentityError } from './errors.ts'
import { asBufferSource } from './webcrypto.ts'
import type { WebCryptoKey } from './webcrypto.ts'

/** Length of an Ed25519 public key and of an encoded point, in bytes (RFC 8032 §5.1.2). @example key.length === ED25519_PUBLIC_KEY_LENGTH */
export const ED25519_PUBLIC_KEY_LENGTH = 32
/** Length of an Ed25519 signature R || S, in bytes (RFC 8032 §5.1.6). @example sig.length === ED25519_SIGNATURE_LENGTH */
export const ED25519_SIGNATURE_LENGTH = 64

/**
 * The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian
 * (RFC 8032 §5.1).
 */
const L_BYTES = new Uint8Array([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10
])

/**
 * The y-coordinates (little-endian, sign bit cleared) of the 8 points of small order, and the two
 * non-canonical spellings p and p + 1 of y = 0 and y = 1 (as libsodium's blocklist has them).
 * With either sign bit these cover all 8 small-order encodings (order 1: y = 1; order 2: y = p-1;
 * order 4: y = 0 with x = ±sqrt(-1); order 8: the two y below, each with two x), plus the x = 0
 * encodings with the sign bit set, which strict decoding rejects and lenient decoding reads as
 * the identity or the point of order 2. test/core/identity/ed25519.test.ts checks the list
 * against @noble/curves.
 */
const SMALL_ORDER_Y: readonly Uint8Array[] = [
  '0000000000000000000000000000000000000000000000000000000000000000', // y = 0, order 4
  '0100000000000000000000000000000000000000000000000000000000000000', // y = 1, the identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p - 1, order 2
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p (= 0), non-canonical
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f' //  y = p + 1 (= 1), non-canonical
].map((hex) => {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
})

/** Whether the 32 bytes at `offset` encode a y-coordinate >= p = 2^255 - 19 (sign bit ignored). */
function yAtLeastP (bytes: Uint8Array, offset: number): boolean {
  // y >= p iff the top 254 bits are all ones (bytes 1..30 = 0xff, byte 31 = 0x7f after masking)
  // and the low byte is >= 0xed, since p = 0x7fff...ffed.
  if (((bytes[offset + 31] as number) & 0x7f) !== 0x7f) return false
  for (let i = 30; i >= 1; i--) if (bytes[offset + i] !== 0xff) return false
  return (bytes[offset] as number) >= 0xed
}

/** Whether the y at `offset` (sign bit ignored) is 1 or p - 1, the two y with x = 0. */
function yHasZeroX (bytes: Uint8Array, offset: number): boolean {
  const low = bytes[offset] as number
  if (low !== 0x01 && low !== 0xec) return false
  const fill = low === 0x01 ? 0x00 : 0xff
  for (let i = 1; i < 31; i++) if (bytes[offset + i] !== fill) return false
  return ((bytes[offset + 31] as number) & 0x7f) === (fill & 0x7f)
}

function canonicalPointAt (bytes: Uint8Array, offset: number): boolean {
  if (yAtLeastP(bytes, offset)) return false
  // RFC 8032 §5.1.3 step 4: "If x = 0, and x_0 = 1, decoding fails."
  if (((bytes[offset + 31] as number) & 0x80) !== 0 && yHasZeroX(bytes, offset)) return false
  return true
}

function smallOrderAt (bytes: Uint8Array, offset: number): boolean {
  for (const y of SMALL_ORDER_Y) {
    if (bytes[offset] !== y[0]) continue // the low bytes all differ: one compare rejects most keys
    let same = ((bytes[offset + 31] as number) & 0x7f) === y[31]
    for (let i = 1; same && i < 31; i++) same = bytes[offset + i] === y[i]
    if (same) return true
  }
  return false
}

/** Whether the 32 bytes at `offset` are a scalar < L, compared from the most significant byte. */
function canonicalScalarAt (bytes: Uint8Array, offset: number): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = bytes[offset + i] as number
    const b = L_BYTES[i] as number
    if (a !== b) return a < b
  }
  return false // S = L
}

function checkLength (bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new IdentityError('ERR_BAD_KEY_LENGTH', `an Ed25519 point encoding is ${ED25519_PUBLIC_KEY_LENGTH} bytes`)
  }
}

/**
 * Whether 32 bytes are a canonical point encoding: y < p and not x = 0 with the sign bit set
 * (RFC 8032 §5.1.3 steps 1 and 4). It does not check that the point is on the curve (WebCrypto
 * does that when it decodes); it rules out the second spellings of a point that lenient decoders
 * accept. Throws ERR_BAD_KEY_LENGTH for a length other than 32.
 *
 * @example
 * isCanonicalPoint(publicKey) // true for every key a real Ed25519 implementation produces
 */
export function isCanonicalPoint (encoding: Uint8Array): boolean {
  checkLength(encoding)
  return canonicalPointAt(encoding, 0)
}

/**
 * Whether 32 bytes encode a point of small order (order 1, 2, 4 or 8), in its canonical spelling
 * or in the non-canonical spellings lenient decoders accept (y = p, y = p + 1, x = 0 with the
 * sign bit set). Throws ERR_BAD_KEY_LENGTH for a length other than 32.
 *
 * @example
 * isSmallOrderPoint(new Uint8Array(32)) // true: y = 0 is a point of order 4
 */
export function isSmallOrderPoint (encoding: Uint8Array): boolean {
  checkLength(encoding)
  return smallOrderAt(encoding, 0)
}

/**
 * Whether 32 bytes are a scalar in [0, L), as S must be (RFC 8032 §5.1.7 step 1). Throws
 * ERR_BAD_SIGNATURE_LENGTH for a length other than 32 (S is half a signature).
 *
 * @example
 * isCanonicalScalar(signature.subarray(32)) // false for a malleated S + L
 */
export function isCanonicalScalar (scalar: Uint8Array): boolean {
  if (!(scalar instanceof Uint8Array) || scalar.length !== 32) {
    throw new IdentityError('ERR_BAD_SIGNATURE_LENGTH', 'an Ed25519 scalar is 32 bytes')
  }
  return canonicalScalarAt(scalar, 0)
}

// Imported verify keys, by public key. Importing costs about as much as a verify, and a ledger
// verifies many events per author, so keys are cached; the bound keeps memory flat under a flood
// of one-off keys (oldest inserted is dropped first: Map iterates in insertion order).
const KEY_CACHE_LIMIT = 4096
const keyCache = new Map<string, WebCryptoKey>()
const pendingImports = new Map<string, Promise<WebCryptoKey | null>>()

function remember (id: string, key: WebCryptoKey): void {
  if (keyCache.size >= KEY_CACHE_LIMIT) {
    const oldest = keyCache.keys().next()
    if (oldest.done !== true) keyCache.delete(oldest.value)
  }
  keyCache.set(id, key)
}

function importVerifyKey (id: string, publicKey: Uint8Array): Promise<WebCryptoKey | null> {
  const pending = pendingImports.get(id)
  if (pending !== undefined) return pending
  const raw = new Uint8Array(publicKey) // a copy: the caller may reuse its buffer while we await
  const promise = crypto.subtle.importKey('raw', raw, 'Ed25519', false, ['verify']).then(
    (key) => { remember(id, key); return key },
    // A browser may refuse to import a point that is not on the curve; Node imports it and the
    // verify fails. Either way the answer is "not a valid signature", and nothing is cached.
    () => null
  ).finally(() => { pendingImports.delete(id) })
  pendingImports.set(id, promise)
  return promise
}

/**
 * Verify an Ed25519 signature strictly (RFC 8032 §5.1.7 plus the small-order and canonical
 * encoding checks above). Returns false for any invalid signature; throws IdentityError
 * ERR_BAD_KEY_LENGTH or ERR_BAD_SIGNATURE_LENGTH only for arguments of the wrong length.
 *
 * @example
 * if (!(await verifyEd25519(event.author, signedBytes, event.sig))) reject(event)
 */
export function verifyEd25519 (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  // Not an `async` function: the ledger calls this once per event it ingests, and the common case
  // (a cached key) hands back WebCrypto's own promise with no extra promise or ticks around it.
  // Bad arguments still reject rather than throw, as from an async function.
  try {
    checkLength(publicKey)
    if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_LENGTH) {
      throw new IdentityError('ERR_BAD_SIGNATURE_LENGTH', `an Ed25519 signature is ${ED25519_SIGNATURE_LENGTH} bytes`)
    }
    if (!(message instanceof Uint8Array)) throw new TypeError('message must be a Uint8Array')
  } catch (err) {
    return Promise.reject(err)
  }
  // Cheapest and most discriminating first: S, then R, then A (all byte compares, no bigint).
  if (!canonicalScalarAt(signature, 32)) return Promise.resolve(false)
  if (!canonicalPointAt(signature, 0) || smallOrderAt(signature, 0)) return Promise.resolve(false)
  if (!canonicalPointAt(publicKey, 0) || smallOrderAt(publicKey, 0)) return Promise.resolve(false)
  const id = keyId(publicKey)
  const key = keyCache.get(id)
  if (key !== undefined) return crypto.subtle.verify('Ed25519', key, asBufferSource(signature), asBufferSource(message))
  return importVerifyKey(id, publicKey).then(imported => imported === null
    ? false
    : crypto.subtle.verify('Ed25519', imported, asBufferSource(signature), asBufferSource(message)))
}

/**
 * `toKey` for a 32-byte key: `String.fromCharCode` with 32 plain arguments is about twice as fast
 * as spreading the bytes through `apply`, and allocates no argument array. Same string.
 */
function keyId (b: Uint8Array): string {
  return String.fromCharCode(
    b[0] as number, b[1] as number, b[2] as number, b[3] as number, b[4] as number, b[5] as number, b[6] as number, b[7] as number,
    b[8] as number, b[9] as number, b[10] as number, b[11] as number, b[12] as number, b[13] as number, b[14] as number, b[15] as number,
    b[16] as number, b[17] as number, b[18] as number, b[19] as number, b[20] as number, b[21] as number, b[22] as number, b[23] as number,
    b[24] as number, b[25] as number, b[26] as number, b[27] as number, b[28] as number, b[29] as number, b[30] as number, b[31] as number)
}
