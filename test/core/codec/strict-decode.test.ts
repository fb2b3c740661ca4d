/**
 * The strict decoder against cborg: on random values they agree, and on random mutations the
 * strict decoder accepts exactly what cborg decodes and re-encodes to the same bytes (within the
 * subset: no floats, tags or undefined).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { check } from '../../helpers/property.ts'
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { decodeCanonical, encodeCanonical, strictDecode, CodecError } from '../../../src/core/codec/index.ts'
import type { CborValue } from '../../../src/core/codec/index.ts'

const { value: arbValue } = fc.letrec(tie => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer(), fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }), fc.constant(null), fc.boolean(),
    fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }).filter(k => k !== '__proto__'), tie('value'), { maxKeys: 5 })
  )
}))

function normalise (v: unknown): unknown {
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v)
  if (Array.isArray(v)) return v.map(normalise)
  if (v instanceof Uint8Array) return Array.from(v)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]))
  return v
}

const cborgOptions = { strict: true, allowIndefinite: false, allowUndefined: false, rejectDuplicateMapKeys: true, allowBigInt: true }

function inSubset (v: unknown): boolean {
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint' || v instanceof Uint8Array) return true
  // Integers decode to safe numbers or bigints; any other number came from a float, which the subset refuses.
  if (typeof v === 'number') return Number.isSafeInteger(v)
  if (Array.isArray(v)) return v.every(inSubset)
  if (typeof v === 'object') return Object.values(v as object).every(inSubset)
  return false
}

/** The reference: cborg strict decode, then re-encode must give the same bytes. */
function reference (bytes: Uint8Array): { ok: true, value: unknown } | { ok: false } {
  try {
    const value = decode(bytes, cborgOptions)
    if (!inSubset(value)) return { ok: false }
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array) && Object.keys(value).some(k => typeof k !== 'string')) return { ok: false }
    const again = encode(value, rfc8949EncodeOptions)
    if (again.length !== bytes.length || !again.every((b, i) => b === bytes[i])) return { ok: false }
    return { ok: true, value }
  } catch {
    return { ok: false }
  }
}

describe('strictDecode', () => {
  it('decodes what encodeCanonical writes, as cborg does', () => {
    check(fc.property(arbValue, v => {
      const bytes = encodeCanonical(v)
      assert.deepEqual(normalise(strictDecode(bytes)), normalise(decode(bytes, cborgOptions)))
      assert.deepEqual(normalise(strictDecode(bytes)), normalise(v))
    }), 2000)
  })

  it('accepts exactly the canonical inputs among random mutations', () => {
    let accepted = 0
    let refused = 0
    check(fc.property(arbValue, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), fc.integer({ min: -3, max: 3 }), (v, edits, resize) => {
      const original = encodeCanonical(v)
      let bytes = new Uint8Array(Math.max(1, original.length + resize))
      bytes.set(original.subarray(0, bytes.length))
      for (const [pos, byte] of edits) bytes[pos % bytes.length] = byte
      bytes = new Uint8Array(bytes)
      const ref = reference(bytes)
      let mine: { ok: true, value: CborValue } | { ok: false, error: unknown }
      try { mine = { ok: true, value: strictDecode(bytes) } } catch (error) { mine = { ok: false, error } }
      if (!mine.ok) assert.ok(mine.error instanceof CodecError, `not a typed error: ${String(mine.error)}`)
      assert.equal(mine.ok, ref.ok, `disagree on ${Buffer.from(bytes).toString('hex')}`)
      if (mine.ok && ref.ok) assert.deepEqual(normalise(mine.value), normalise(ref.value))
      if (mine.ok) accepted++
      else refused++
    }), 3000)
    // Both outcomes must be common, or the agreement above proves little.
    assert.ok(accepted > 100 && refused > 100, `accepted ${accepted}, refused ${refused}`)
  })

  it('refuses each non-canonical form with a typed error', () => {
    const cases: Array<[string, number[], string]> = [
      ['non-minimal integer', [0x18, 0x01], 'ERR_CODEC_NON_CANONICAL'],
      ['non-minimal length', [0x58, 0x01, 0x00], 'ERR_CODEC_NON_CANONICAL'],
      ['unsorted map', [0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02], 'ERR_CODEC_NON_CANONICAL'],
      ['duplicate key', [0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02], 'ERR_CODEC_NON_CANONICAL'],
      ['longer key first', [0xa2, 0x62, 0x61, 0x61, 0x01, 0x61, 0x62, 0x02], 'ERR_CODEC_NON_CANONICAL'],
      ['float', [0xf9, 0x3c, 0x00], 'ERR_CODEC_MALFORMED'],
      ['tag', [0xc2, 0x41, 0x01], 'ERR_CODEC_MALFORMED'],
      ['undefined', [0xf7], 'ERR_CODEC_MALFORMED'],
      ['indefinite array', [0x9f, 0x01, 0xff], 'ERR_CODEC_MALFORMED'],
      ['invalid UTF-8', [0x62, 0xc3, 0x28], 'ERR_CODEC_MALFORMED'],
      ['integer map key', [0xa1, 0x01, 0x01], 'ERR_CODEC_MALFORMED'],
      ['truncated', [0x82, 0x01], 'ERR_CODEC_TRUNCATED'],
      ['length past the end', [0x5a, 0xff, 0xff, 0xff, 0xff], 'ERR_CODEC_TRUNCATED'],
      ['trailing bytes', [0x01, 0x02], 'ERR_CODEC_TRAILING_BYTES'],
      ['__proto__ key', [0xa1, 0x69, ...Buffer.from('__proto__'), 0x01], 'ERR_CODEC_MALFORMED'],
      ['too deep', [...Array(40).fill(0x81), 0x01], 'ERR_CODEC_MALFORMED']
    ]
    for (const [name, bytes, code] of cases) {
      assert.throws(() => decodeCanonical(new Uint8Array(bytes)), (e: unknown) => e instanceof CodecError && e.code === code, name)
    }
    // A leading BOM is a character of the text, not something to drop (else two encodings decode alike).
    assert.equal(strictDecode(new Uint8Array([0x64, 0xef, 0xbb, 0xbf, 0x78])), '\uFEFFx')
    assert.deepEqual(Object.keys(strictDecode(new Uint8Array([0xa2, 0x61, 0x61, 0x01, 0x64, 0xef, 0xbb, 0xbf, 0x61, 0x02])) as object), ['a', '\uFEFFa'])
    assert.throws(() => decodeCanonical(new Uint8Array(0)), (e: unknown) => e instanceof CodecError && e.code === 'ERR_CODEC_TRUNCATED')
    assert.throws(() => decodeCanonical(new Uint8Array(10), 5), (e: unknown) => e instanceof CodecError && e.code === 'ERR_CODEC_OVERSIZED')
  })
})
