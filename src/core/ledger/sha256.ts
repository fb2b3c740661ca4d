/**
 * One-shot SHA-256 (FIPS 180-4 §6.2) for the ledger's hot path: the id of every event a node
 * receives is the SHA-256 of its signed bytes (event.ts), so this runs once per ingested event.
 *
 * Why not @noble/hashes' `sha256` here (the ledger uses it everywhere else): its one-shot call
 * builds a streaming hasher per message (an object, a 64-byte buffer, two DataViews, the output
 * copy) and reads words through a DataView; for the ~150-byte messages events are, that overhead
 * is about 40% of the call (measured: ~2.2 us against ~1.35 us per 160-byte message on the
 * benchmark machine), and the ledger's main thread is what bounds ingest (bench/ledger.ts). This
 * one keeps its schedule and state in module-level typed arrays and allocates only the digest.
 * It is checked against @noble/hashes on random messages of every length up to several blocks
 * and on the FIPS 180-2 examples (test/core/ledger/sha256.test.ts).
 *
 * Synchronous and single-threaded by construction (JavaScript has no preemption), so the shared
 * scratch arrays are safe.
 */

/** Round constants: the first 32 bits of the fractional parts of the cube roots of the first 64 primes (§4.2.2). */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
])

/** Initial hash value H(0) (§5.3.3). */
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])

const W = new Int32Array(64)
const H = new Int32Array(8)
/** The padded last one or two blocks (§5.1.1). */
const TAIL = new Uint8Array(128)

/** Process the 64-byte block at `offset` of `bytes` into H (§6.2.2). */
function compress (bytes: Uint8Array, offset: number): void {
  for (let t = 0, o = offset; t < 16; t++, o += 4) {
    W[t] = ((bytes[o] as number) << 24) | ((bytes[o + 1] as number) << 16) | ((bytes[o + 2] as number) << 8) | (bytes[o + 3] as number)
  }
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15] as number
    const w2 = W[t - 2] as number
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3)
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10)
    W[t] = (s1 + (W[t - 7] as number) + s0 + (W[t - 16] as number)) | 0
  }
  let a = H[0] as number
  let b = H[1] as number
  let c = H[2] as number
  let d = H[3] as number
  let e = H[4] as number
  let f = H[5] as number
  let g = H[6] as number
  let h = H[7] as number
  for (let t = 0; t < 64; t++) {
    const sigma1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + sigma1 + ((e & f) ^ (~e & g)) + (K[t] as number) + (W[t] as number)) | 0
    const sigma0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (sigma0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
    h = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  H[0] = ((H[0] as number) + a) | 0
  H[1] = ((H[1] as number) + b) | 0
  H[2] = ((H[2] as number) + c) | 0
  H[3] = ((H[3] as number) + d) | 0
  H[4] = ((H[4] as number) + e) | 0
  H[5] = ((H[5] as number) + f) | 0
  H[6] = ((H[6] as number) + g) | 0
  H[7] = ((H[7] as number) + h) | 0
}

/**
 * SHA-256 of `message` (FIPS 180-4), as a new 32-byte array. Same output as @noble/hashes'
 * `sha256`; messages up to 2^53 / 8 bytes (far beyond any event).
 *
 * @example
 * toHex(sha256Once(utf8('abc'))) === 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
 */
export function sha256Once (message: Uint8Array): Uint8Array {
  H.set(IV)
  const length = message.length
  const full = length - (length & 63)
  for (let offset = 0; offset < full; offset += 64) compress(message, offset)
  // Padding (§5.1.1): the rest, a 1 bit, zeros, and the bit length as a 64-bit big-endian integer.
  const rest = length - full
  const tail = rest + 9 > 64 ? 128 : 64
  TAIL.fill(0, 0, tail)
  for (let i = 0; i < rest; i++) TAIL[i] = message[full + i] as number
  TAIL[rest] = 0x80
  const bitsHigh = Math.floor(length / 0x20000000) // length * 8 / 2^32
  const bitsLow = (length << 3) >>> 0
  TAIL[tail - 8] = bitsHigh >>> 24
  TAIL[tail - 7] = bitsHigh >>> 16
  TAIL[tail - 6] = bitsHigh >>> 8
  TAIL[tail - 5] = bitsHigh
  TAIL[tail - 4] = bitsLow >>> 24
  TAIL[tail - 3] = bitsLow >>> 16
  TAIL[tail - 2] = bitsLow >>> 8
  TAIL[tail - 1] = bitsLow
  compress(TAIL, 0)
  if (tail === 128) compress(TAIL, 64)
  const out = new Uint8Array(32)
  for (let i = 0; i < 8; i++) {
    const word = H[i] as number
    out[4 * i] = word >>> 24
    out[4 * i + 1] = word >>> 16
    out[4 * i + 2] = word >>> 8
    out[4 * i + 3] = word
  }
  return out
}
