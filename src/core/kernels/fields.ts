/**
 * Reading the fields of a kernel payload or output: a canonical CBOR map (src/core/codec) whose
 * values are checked one by one, each failure a `KernelError` naming the field.
 *
 * One module for every kernel, so the same fault gets the same code everywhere:
 * - the bytes are not a Uint8Array, not canonical CBOR, or not a map: `ERR_KERNEL_BAD_PAYLOAD`;
 *   longer than the kernel's limit: `ERR_KERNEL_PAYLOAD_TOO_LARGE` (checked before decoding, so an
 *   oversized input costs nothing);
 * - a field missing, unknown, or of the wrong CBOR type: `ERR_KERNEL_BAD_PAYLOAD`;
 * - an integer outside the range a reader states: `ERR_KERNEL_BAD_PARAMETER` by default (the
 *   payload is well formed, the value is refused), or the reader's `rangeCode` (output decoders use
 *   `ERR_KERNEL_BAD_PAYLOAD`: a bad output is malformed, whatever the field);
 * - a float vector (floats.ts): a length that is not a whole number of float32 values
 *   `ERR_KERNEL_BAD_PAYLOAD`, a NaN or ±Infinity `ERR_KERNEL_NON_FINITE`.
 *
 * Each read checks one field and nothing across fields, so a kernel keeps the order of its checks
 * (which fault is reported first when a payload has several) by the order of its reads.
 *
 * The codec decodes integers as numbers when they are safe integers and as bigints beyond (RFC 8949
 * allows 64-bit arguments); a bigint is never a usable count or size here: without a range it is
 * `ERR_KERNEL_BAD_PAYLOAD` ("not an integer we take"), with one it lies outside it.
 */
import { decodeCanonical } from '../codec/index.ts'
import type { CborValue } from '../codec/index.ts'
import { KernelError } from './errors.ts'
import type { KernelErrorCode } from './errors.ts'
import { bytesToFloats } from './floats.ts'

/** A decoded CBOR map (text keys). @example const m: CborMap = { op: 'encrypt' } */
export type CborMap = { [key: string]: CborValue }

/** An inclusive integer range. @example const r: IntRange = { min: 1, max: 4096 } */
export interface IntRange { readonly min: number, readonly max: number }

/** How a reader reports. @example const o: FieldOptions = { rangeCode: 'ERR_KERNEL_BAD_PAYLOAD' } */
export interface FieldOptions {
  /** The code of an integer outside its range (default `ERR_KERNEL_BAD_PARAMETER`). */
  readonly rangeCode?: KernelErrorCode
}

/** How to decode a map. @example const o: DecodeFieldsOptions = { maxBytes: 1 << 20, what: 'encryption payload' } */
export interface DecodeFieldsOptions extends FieldOptions {
  /** Longest accepted input; more is `ERR_KERNEL_PAYLOAD_TOO_LARGE`. */
  readonly maxBytes: number
  /** What the bytes are, for messages ('encryption payload', 'vector_search output'). */
  readonly what: string
}

/**
 * Whether a decoded value is a map (not null, an array or a byte string).
 *
 * @example isCborMap(decodeCanonical(bytes)) // true for { ... }
 */
export function isCborMap (value: unknown): value is CborMap {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array)
}

/**
 * Typed reads of one CBOR map's fields. Field names in messages carry the reader's prefix
 * (`layers[2].weights`), and every message starts with what the map is.
 *
 * @example
 * const f = PayloadFields.decode(payload, { maxBytes: 1 << 20, what: 'compression payload' })
 * f.only(['bits', 'dim', 'op', 'vectors'], ['perVector'])
 * const dim = f.int('dim', { min: 1, max: 4096 })
 * const vectors = f.floats('vectors')
 */
export class PayloadFields {
  /** The map read, as decoded. */
  readonly raw: CborMap
  /** What the map is, for messages. */
  readonly what: string
  /** Prepended to field names in messages ('' at the top, 'layers[0].' in a nested map). */
  readonly prefix: string
  readonly #rangeCode: KernelErrorCode

  constructor (map: CborMap, what: string, prefix = '', options: FieldOptions = {}) {
    this.raw = map
    this.what = what
    this.prefix = prefix
    this.#rangeCode = options.rangeCode ?? 'ERR_KERNEL_BAD_PARAMETER'
  }

  /**
   * Decode `bytes` as a canonical CBOR map, refusing anything longer than `maxBytes`.
   *
   * @example PayloadFields.decode(payload, { maxBytes: 1 << 20, what: 'embedding payload' }).only(['model', 'texts'])
   */
  static decode (bytes: Uint8Array, options: DecodeFieldsOptions): PayloadFields {
    const { maxBytes, what } = options
    if (!(bytes instanceof Uint8Array)) throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', `${what} is not a Uint8Array`)
    if (bytes.length > maxBytes) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `${what} is ${bytes.length} bytes, more than ${maxBytes}`)
    let value: CborValue
    try {
      value = decodeCanonical(bytes, maxBytes)
    } catch (err) {
      throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', `${what} is not canonical CBOR: ${(err as Error).message}`, { cause: err })
    }
    if (!isCborMap(value)) throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', `${what} must be a map`)
    return new PayloadFields(value, what, '', options)
  }

  /**
   * A reader over a value already decoded (an element of an array field), or `ERR_KERNEL_BAD_PAYLOAD`
   * when it is not a map. `name` is its place in messages (`layers[2]`).
   *
   * @example PayloadFields.of(list[0], 'neural_inference payload', 'layers[0]').int('in')
   */
  static of (value: unknown, what: string, name: string, options: FieldOptions = {}): PayloadFields {
    if (!isCborMap(value)) throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', `${what}: ${name} must be a map`)
    return new PayloadFields(value, what, `${name}.`, options)
  }

  /** An error about this map, prefixed with what it is. @example throw f.error('op must be encrypt or decrypt') */
  error (message: string, code: KernelErrorCode = 'ERR_KERNEL_BAD_PAYLOAD'): KernelError {
    return new KernelError(code, `${this.what}: ${message}`)
  }

  /** A field's name as messages show it. @example f.name('weights') // 'layers[0].weights' */
  name (key: string): string { return this.prefix + key }

  /**
   * Refuse a missing `required` field, then any field neither required nor `optional`.
   *
   * @example f.only(['data', 'iv', 'key', 'op'], ['aad'])
   */
  only (required: readonly string[], optional: readonly string[] = []): this {
    for (const k of required) if (!Object.hasOwn(this.raw, k)) throw this.error(`missing field '${this.name(k)}'`)
    for (const k of Object.keys(this.raw)) {
      if (!required.includes(k) && !optional.includes(k)) throw this.error(`unknown field '${this.name(k)}'`)
    }
    return this
  }

  /** Whether the field is present. @example f.has('aad') */
  has (key: string): boolean { return Object.hasOwn(this.raw, key) }

  /** The field's value as decoded, or undefined when absent. @example f.value('texts') */
  value (key: string): CborValue | undefined { return Object.hasOwn(this.raw, key) ? this.raw[key] : undefined }

  /** A byte string. @example f.bytes('key') */
  bytes (key: string): Uint8Array {
    const v = this.value(key)
    if (!(v instanceof Uint8Array)) throw this.error(`${this.name(key)} must be a byte string`)
    return v
  }

  /**
   * A safe integer; with a range, one in it (else the reader's range code; a bigint is outside
   * every range). Without a range a bigint is `ERR_KERNEL_BAD_PAYLOAD`.
   *
   * @example f.int('k', { min: 1, max: 1024 })
   */
  int (key: string, range?: IntRange): number {
    const v = this.value(key)
    if (range !== undefined && (typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v) && (v < range.min || v > range.max)))) {
      throw this.error(`${this.name(key)} must be an integer in [${range.min}, ${range.max}], got ${String(v)}`, this.#rangeCode)
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw this.error(`${this.name(key)} must be an integer`)
    return v
  }

  /** A boolean. @example f.bool('perVector') */
  bool (key: string): boolean {
    const v = this.value(key)
    if (typeof v !== 'boolean') throw this.error(`${this.name(key)} must be a boolean`)
    return v
  }

  /** A text string. @example f.text('metric') */
  text (key: string): string {
    const v = this.value(key)
    if (typeof v !== 'string') throw this.error(`${this.name(key)} must be a text string`)
    return v
  }

  /**
   * One of `values` (any other value, of any type, is `code`).
   *
   * @example f.choice('op', ['encrypt', 'decrypt'])
   */
  choice<T extends string> (key: string, values: readonly T[], code: KernelErrorCode = 'ERR_KERNEL_BAD_PAYLOAD'): T {
    const v = this.value(key)
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      throw this.error(`${this.name(key)} must be one of ${values.map(x => `'${x}'`).join(', ')}`, code)
    }
    return v as T
  }

  /** An array. @example f.array('layers').length */
  array (key: string): CborValue[] {
    const v = this.value(key)
    if (!Array.isArray(v)) throw this.error(`${this.name(key)} must be an array`)
    return v
  }

  /** A nested map, read with the same options. @example f.map('params').int('dim') */
  map (key: string): PayloadFields {
    return PayloadFields.of(this.value(key), this.what, this.name(key), { rangeCode: this.#rangeCode })
  }

  /** A float32 vector (floats.ts: little-endian, finite). @example f.floats('vectors') */
  floats (key: string): Float32Array {
    return bytesToFloats(this.bytes(key), this.name(key))
  }

  /** One float32, carried as a 4-byte string. @example f.float32('leak') */
  float32 (key: string): number {
    const values = this.floats(key)
    if (values.length !== 1) throw this.error(`${this.name(key)} must be one float32 (4 bytes)`)
    return values[0] as number
  }
}
