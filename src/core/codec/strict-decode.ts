/**
 * A strict decoder for edge-net's canonical CBOR subset (RFC 8949 §4.2.1 core deterministic
 * encoding, restricted): unsigned and negative integers, byte strings, UTF-8 text strings, arrays,
 * maps with text keys, false, true and null. No floats, no tags, no undefined, no indefinite
 * lengths.
 *
 * Why by hand rather than cborg alone: cborg's strict mode checks integer and length minimality
 * but, as its README says, cannot check map key order or float width on decode, so the only way to
 * enforce canonical input with it is to decode, re-encode and compare — two passes and many
 * short-lived objects on the hottest path of the ledger (every event a node receives). This decoder
 * checks every canonical rule in the one pass that builds the value: minimal heads, definite
 * lengths, map keys strictly ascending in bytewise order of their encodings (which also refuses
 * duplicates), well-formed UTF-8. Its output equals cborg's for every input both accept, and it
 * accepts exactly the inputs that cborg decodes and re-encodes to the same bytes (restricted to the
 * subset): test/core/codec/strict-decode.test.ts checks both against cborg on random and mutated
 * inputs.
 */
import { CodecError } from './errors.ts'
import type { CborValue } from './errors.ts'

const MAX_DEPTH = 32
// ignoreBOM: keep a leading U+FEFF as a character; the default strips it, which would let
// 'EF BB BF x' decode to the same text as 'x' (two encodings of one value).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

class Reader {
  readonly bytes: Uint8Array
  pos = 0

  constructor (bytes: Uint8Array) {
    this.bytes = bytes
  }

  need (n: number): void {
    if (this.pos + n > this.bytes.length) throw new CodecError('ERR_CODEC_TRUNCATED', 'input ends inside a value')
  }

  /** Read a head's argument for additional info `ai`, enforcing the shortest form. */
  argument (ai: number): number | bigint {
    const b = this.bytes
    if (ai < 24) return ai
    if (ai === 24) {
      this.need(1)
      const v = b[this.pos++] as number
      if (v < 24) throw nonCanonical('a one-byte argument below 24')
      return v
    }
    if (ai === 25) {
      this.need(2)
      const v = ((b[this.pos] as number) << 8) | (b[this.pos + 1] as number)
      this.pos += 2
      if (v < 0x100) throw nonCanonical('a two-byte argument below 256')
      return v
    }
    if (ai === 26) {
      this.need(4)
      const v = (((b[this.pos] as number) << 24) >>> 0) + ((b[this.pos + 1] as number) << 16) + ((b[this.pos + 2] as number) << 8) + (b[this.pos + 3] as number)
      this.pos += 4
      if (v < 0x10000) throw nonCanonical('a four-byte argument below 65536')
      return v
    }
    if (ai === 27) {
      this.need(8)
      const hi = (((b[this.pos] as number) << 24) >>> 0) + ((b[this.pos + 1] as number) << 16) + ((b[this.pos + 2] as number) << 8) + (b[this.pos + 3] as number)
      const lo = (((b[this.pos + 4] as number) << 24) >>> 0) + ((b[this.pos + 5] as number) << 16) + ((b[this.pos + 6] as number) << 8) + (b[this.pos + 7] as number)
      this.pos += 8
      if (hi === 0) throw nonCanonical('an eight-byte argument below 2^32')
      // Like cborg: a number when it is a safe integer, a bigint above.
      if (hi < 0x200000) return hi * 0x100000000 + lo
      return (BigInt(hi) << 32n) | BigInt(lo)
    }
    if (ai === 31) throw new CodecError('ERR_CODEC_MALFORMED', 'indefinite lengths are not allowed')
    throw new CodecError('ERR_CODEC_MALFORMED', `reserved additional information ${ai}`)
  }

  length (ai: number): number {
    const n = this.argument(ai)
    if (typeof n !== 'number' || n > this.bytes.length - this.pos) throw new CodecError('ERR_CODEC_TRUNCATED', 'a length runs past the end of the input')
    return n
  }

  value (depth: number): CborValue {
    if (depth > MAX_DEPTH) throw new CodecError('ERR_CODEC_MALFORMED', `nesting deeper than ${MAX_DEPTH}`)
    this.need(1)
    const initial = this.bytes[this.pos++] as number
    const major = initial >> 5
    const ai = initial & 31
    switch (major) {
      case 0:
        return this.argument(ai)
      case 1: {
        const n = this.argument(ai)
        return typeof n === 'number' && n < Number.MAX_SAFE_INTEGER ? -1 - n : -1n - BigInt(n)
      }
      case 2: {
        const n = this.length(ai)
        const out = this.bytes.subarray(this.pos, this.pos + n)
        this.pos += n
        return out
      }
      case 3: {
        const n = this.length(ai)
        const start = this.pos
        this.pos += n
        if (n <= SHORT_TEXT) {
          const text = shortAscii(this.bytes, start, n)
          if (text !== null) return text
        }
        const raw = this.bytes.subarray(start, start + n)
        try {
          return utf8.decode(raw)
        } catch (err) {
          throw new CodecError('ERR_CODEC_MALFORMED', 'a text string is not valid UTF-8', { cause: err })
        }
      }
      case 4: {
        const n = this.length(ai)
        const out: CborValue[] = new Array(n)
        for (let i = 0; i < n; i++) out[i] = this.value(depth + 1)
        return out
      }
      case 5: {
        const n = this.length(ai)
        const out: { [key: string]: CborValue } = {}
        let lastStart = -1
        let lastEnd = -1
        for (let i = 0; i < n; i++) {
          const start = this.pos
          const key = this.value(depth + 1)
          if (typeof key !== 'string') throw new CodecError('ERR_CODEC_MALFORMED', 'map keys must be text strings')
          const end = this.pos
          if (lastStart >= 0 && compareRanges(this.bytes, lastStart, lastEnd, start, end) >= 0) {
            throw nonCanonical('map keys are not in ascending bytewise order (or repeat)')
          }
          if (key === '__proto__') throw new CodecError('ERR_CODEC_MALFORMED', 'the key __proto__ is not allowed')
          out[key] = this.value(depth + 1)
          lastStart = start
          lastEnd = end
        }
        return out
      }
      case 6:
        throw new CodecError('ERR_CODEC_MALFORMED', 'tags are not allowed')
      default:
        if (ai === 20) return false
        if (ai === 21) return true
        if (ai === 22) return null
        if (ai >= 25 && ai <= 27) throw new CodecError('ERR_CODEC_MALFORMED', 'floats are not allowed: numbers are integers')
        if (ai === 31) throw new CodecError('ERR_CODEC_MALFORMED', 'a break outside an indefinite-length item')
        throw new CodecError('ERR_CODEC_MALFORMED', `simple value ${ai} is not allowed`)
    }
  }
}

/**
 * Short ASCII text (map keys, event types, enum values: most text in edge-net's messages) skips
 * TextDecoder: ASCII bytes are their own UTF-8, so the string is the bytes as char codes, and the
 * same few strings recur in every message, so a small direct-mapped table hands back the string
 * built last time for the same bytes (strings are immutable: sharing is safe). A slot holds
 * whatever string last hashed to it, so the table cannot be filled up for good by anyone.
 */
const SHORT_TEXT = 24
const INTERNED = new Array<string>(256).fill('')

function shortAscii (b: Uint8Array, start: number, n: number): string | null {
  let h = n
  for (let i = start; i < start + n; i++) {
    const c = b[i] as number
    if (c >= 0x80) return null
    h = (Math.imul(h, 31) + c) | 0
  }
  const slot = (h ^ (h >>> 8)) & 255
  const hit = INTERNED[slot] as string
  if (hit.length === n) {
    let same = true
    for (let i = 0; i < n; i++) if (hit.charCodeAt(i) !== b[start + i]) { same = false; break }
    if (same) return hit
  }
  let text = ''
  for (let i = start; i < start + n; i++) text += String.fromCharCode(b[i] as number)
  INTERNED[slot] = text
  return text
}

function nonCanonical (what: string): CodecError {
  return new CodecError('ERR_CODEC_NON_CANONICAL', `not canonical: ${what}`)
}

function compareRanges (b: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart)
  for (let i = 0; i < n; i++) {
    const d = (b[aStart + i] as number) - (b[bStart + i] as number)
    if (d !== 0) return d
  }
  return (aEnd - aStart) - (bEnd - bStart)
}

/**
 * Decode one canonical value that spans the whole input. Byte strings in the result are views
 * into `bytes` (copy them to keep them past the input's life).
 * @example strictDecode(new Uint8Array([0x82, 0x01, 0x61, 0x61])) // [1, 'a']
 */
export function strictDecode (bytes: Uint8Array): CborValue {
  const reader = new Reader(bytes)
  const value = reader.value(0)
  if (reader.pos !== bytes.length) throw new CodecError('ERR_CODEC_TRAILING_BYTES', 'input has bytes after the value')
  return value
}
