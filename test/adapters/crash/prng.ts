/**
 * A tiny seeded PRNG (sfc32, seeded through splitmix32) shared by the crash child and its parent,
 * so a round is reproducible from its seed. Test code only: not for keys or nonces.
 */

/** A deterministic source of numbers and bytes. */
export interface Prng {
  /** A uniform 32-bit unsigned integer. */
  u32 (): number
  /** A uniform integer in [min, max] (both inclusive). */
  int (min: number, max: number): number
  /** `length` uniform bytes. */
  bytes (length: number): Uint8Array
}

/** splitmix32 step: spreads nearby seeds (1, 2, 3…) into unrelated states. */
function splitmix32 (state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0
  let z = next
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return [next, (z ^ (z >>> 16)) >>> 0]
}

/**
 * Mix several integers into one 32-bit seed, e.g. (master seed, round number, stream id).
 *
 * @example
 * const roundSeed = mixSeed(seed, round, 1)
 */
export function mixSeed (...parts: number[]): number {
  let state = 0x2545f491
  let out = 0
  for (const part of parts) {
    ;[state, out] = splitmix32((state ^ Math.imul(part | 0, 0x27d4eb2d)) | 0)
    state = (state + out) | 0
  }
  return out >>> 0
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, PractRand-clean).
 *
 * @example
 * const rng = createPrng(42); rng.int(1, 20)
 */
export function createPrng (seed: number): Prng {
  let s = seed | 0
  let a: number, b: number, c: number
  ;[s, a] = splitmix32(s)
  ;[s, b] = splitmix32(s)
  ;[s, c] = splitmix32(s)
  let d = 1
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 12; i++) u32()
  return {
    u32,
    int: (min, max) => min + Math.floor((u32() / 2 ** 32) * (max - min + 1)),
    bytes: (length) => {
      const out = new Uint8Array(length)
      for (let i = 0; i < length; i += 4) {
        const v = u32()
        out[i] = v & 0xff
        if (i + 1 < length) out[i + 1] = (v >>> 8) & 0xff
        if (i + 2 < length) out[i + 2] = (v >>> 16) & 0xff
        if (i + 3 < length) out[i + 3] = v >>> 24
      }
      return out
    }
  }
}
