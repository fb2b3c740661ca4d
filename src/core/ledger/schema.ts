/**
 * Field readers for decoded CBOR: each returns the typed value or throws a LedgerError with
 * ERR_BAD_BODY / ERR_BAD_EVENT naming the field, so a malformed event is refused with a precise
 * message and nothing is applied.
 */
import type { CborValue } from '../codec/index.ts'
import { compareBytes } from '../bytes.ts'
import { LedgerError } from './errors.ts'
import type { LedgerErrorCode } from './errors.ts'

/** Largest amount in micro-credits one event may carry: 2^63 - 1 (about 9.2 trillion credits). */
export const MAX_AMOUNT = (1n << 63n) - 1n

export type CborMap = { [key: string]: CborValue }

export function isMap (value: CborValue | undefined): value is CborMap {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !Array.isArray(value)
}

export class FieldReader {
  readonly map: CborMap
  readonly where: string
  readonly code: LedgerErrorCode

  constructor (value: CborValue | undefined, where: string, code: LedgerErrorCode = 'ERR_BAD_BODY') {
    if (!isMap(value)) throw new LedgerError(code, `${where} is not a map`)
    this.map = value
    this.where = where
    this.code = code
  }

  /** Refuse keys this schema does not know, so no data can hide in an event. */
  only (...keys: string[]): this {
    for (const key of Object.keys(this.map)) {
      if (!keys.includes(key)) throw this.fail(key, 'is not a known field')
    }
    return this
  }

  fail (key: string, why: string): LedgerError {
    return new LedgerError(this.code, `${this.where}.${key} ${why}`)
  }

  has (key: string): boolean { return Object.hasOwn(this.map, key) }

  bytes (key: string, length?: number): Uint8Array {
    const v = this.map[key]
    if (!(v instanceof Uint8Array)) throw this.fail(key, 'must be a byte string')
    if (length !== undefined && v.length !== length) throw this.fail(key, `must be ${length} bytes`)
    return v
  }

  text (key: string, maxLength: number): string {
    const v = this.map[key]
    if (typeof v !== 'string') throw this.fail(key, 'must be a text string')
    if (v.length > maxLength) throw this.fail(key, `must be at most ${maxLength} characters`)
    return v
  }

  oneOf<T extends string> (key: string, allowed: readonly T[]): T {
    const v = this.map[key]
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw this.fail(key, `must be one of ${allowed.join(', ')}`)
    return v as T
  }

  uint (key: string, max: number = Number.MAX_SAFE_INTEGER): number {
    const v = this.map[key]
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw this.fail(key, `must be an integer in [0, ${max}]`)
    return v
  }

  /** A positive amount of micro-credits. */
  amount (key: string): bigint {
    const v = this.map[key]
    const n = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : typeof v === 'bigint' ? v : null
    if (n === null || n <= 0n || n > MAX_AMOUNT) {
      throw new LedgerError('ERR_BAD_AMOUNT', `${this.where}.${key} must be a whole number of micro-credits in [1, ${MAX_AMOUNT}]`)
    }
    return n
  }

  /** A non-negative amount (used for the trial part of a split). */
  amountOrZero (key: string): bigint {
    const v = this.map[key]
    if (v === 0) return 0n
    return this.amount(key)
  }

  /** A sorted list of distinct byte strings of one length: sorting makes the encoding unique. */
  sortedIds (key: string, length: number, min: number, max: number): Uint8Array[] {
    const v = this.map[key]
    if (!Array.isArray(v) || v.length < min || v.length > max) throw this.fail(key, `must be a list of ${min} to ${max} items`)
    return sortedDistinctBytes(v, length, () => this.fail(key, `must hold distinct ${length}-byte strings in ascending order`))
  }
}

export function sortedDistinctBytes (list: CborValue[], length: number, fail: () => Error): Uint8Array[] {
  // Checked in place and returned as is (the decoder's fresh array): no copy per event.
  let last: Uint8Array | null = null
  for (let i = 0; i < list.length; i++) {
    const item = list[i]
    if (!(item instanceof Uint8Array) || item.length !== length) throw fail()
    if (last !== null && compareBytes(last, item) >= 0) throw fail()
    last = item
  }
  return list as Uint8Array[]
}
