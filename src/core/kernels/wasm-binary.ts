/**
 * Reading and writing the WebAssembly binary format's primitives (WebAssembly Core Specification
 * 2.0, §5.2: LEB128 integers, vectors, names). The sandbox parses untrusted modules with these, so
 * every read is bounds-checked and a malformed input throws `ERR_WASM_INVALID_MODULE`, never a
 * RangeError or an allocation sized by the input.
 */
import { KernelError } from './errors.ts'

/** The error for a module the sandbox refuses. @example throw invalidModule('unknown section id 14') */
export function invalidModule (message: string): KernelError {
  return new KernelError('ERR_WASM_INVALID_MODULE', message)
}

/**
 * A bounds-checked cursor over a byte string.
 *
 * @example
 * const r = new WasmReader(new Uint8Array([0xe5, 0x8e, 0x26]))
 * r.u32() // 624485 (spec §5.2.2's example)
 */
export class WasmReader {
  readonly bytes: Uint8Array
  pos: number
  readonly end: number

  constructor (bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes
    this.pos = start
    this.end = end
  }

  /** Whether the cursor has reached the end of its range. */
  done (): boolean { return this.pos >= this.end }

  /** One byte. */
  byte (): number {
    if (this.pos >= this.end) throw invalidModule(`unexpected end of module at byte ${this.pos}`)
    return this.bytes[this.pos++] as number
  }

  /** The next byte, without consuming it. */
  peek (): number {
    if (this.pos >= this.end) throw invalidModule(`unexpected end of module at byte ${this.pos}`)
    return this.bytes[this.pos] as number
  }

  /** An unsigned LEB128 integer of at most 32 bits (spec §5.2.2: at most 5 bytes). */
  u32 (): number {
    let result = 0
    let shift = 0
    for (let i = 0; i < 5; i++) {
      const b = this.byte()
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw invalidModule('u32 out of range')
        return result
      }
      shift += 7
    }
    throw invalidModule('u32 longer than 5 bytes')
  }

  /** Skip a signed LEB128 integer of at most `bits` bits (32, 33 or 64), returning its value when it fits a double exactly. */
  sleb (bits: 32 | 33 | 64): number {
    const maxBytes = Math.ceil(bits / 7)
    let result = 0
    let shift = 0
    for (let i = 0; i < maxBytes; i++) {
      const b = this.byte()
      result += (b & 0x7f) * 2 ** shift
      shift += 7
      if ((b & 0x80) === 0) {
        if ((b & 0x40) !== 0) result -= 2 ** shift
        return result
      }
    }
    throw invalidModule(`signed LEB128 longer than ${maxBytes} bytes`)
  }

  /** `n` raw bytes (a view, not a copy). */
  take (n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) throw invalidModule(`a ${n}-byte field runs past the end of its section`)
    const out = this.bytes.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /** Skip `n` bytes. */
  skip (n: number): void { this.take(n) }

  /** A vector length, checked against the bytes left (each element takes at least `minElementBytes`), so a forged count cannot make us loop or allocate. */
  count (minElementBytes = 1): number {
    const n = this.u32()
    if (n * minElementBytes > this.end - this.pos) throw invalidModule(`a vector of ${n} elements does not fit in the ${this.end - this.pos} bytes left`)
    return n
  }

  /** A UTF-8 name (spec §5.2.4). */
  name (): string {
    const length = this.u32()
    const raw = this.take(length)
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw)
    } catch {
      throw invalidModule('a name is not valid UTF-8')
    }
  }
}

/**
 * An append-only byte buffer with LEB128 writers.
 *
 * @example
 * const w = new WasmWriter(); w.u32(624485); w.finish() // e5 8e 26
 */
export class WasmWriter {
  private buf: Uint8Array
  private len = 0

  constructor (capacity = 256) { this.buf = new Uint8Array(Math.max(16, capacity)) }

  private ensure (extra: number): void {
    if (this.len + extra <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + extra) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }

  /** Bytes written so far. */
  get length (): number { return this.len }

  /** One byte. */
  byte (b: number): void {
    this.ensure(1)
    this.buf[this.len++] = b & 0xff
  }

  /** Raw bytes. */
  bytes (data: Uint8Array): void {
    this.ensure(data.length)
    this.buf.set(data, this.len)
    this.len += data.length
  }

  /** An unsigned LEB128 integer (0 <= n < 2^32). */
  u32 (n: number): void {
    do {
      let b = n % 128
      n = Math.floor(n / 128)
      if (n !== 0) b |= 0x80
      this.byte(b)
    } while (n !== 0)
  }

  /** A signed LEB128 integer (a safe integer). */
  sleb (n: number): void {
    let v = BigInt(n)
    for (;;) {
      const b = Number(v & 0x7fn)
      v >>= 7n
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.byte(b)
        return
      }
      this.byte(b | 0x80)
    }
  }

  /** A name: length then UTF-8. */
  name (text: string): void {
    const raw = new TextEncoder().encode(text)
    this.u32(raw.length)
    this.bytes(raw)
  }

  /** A section: id, byte size, contents (spec §5.5.2). */
  section (id: number, contents: Uint8Array): void {
    this.byte(id)
    this.u32(contents.length)
    this.bytes(contents)
  }

  /** A copy of what was written. */
  finish (): Uint8Array { return this.buf.slice(0, this.len) }
}
