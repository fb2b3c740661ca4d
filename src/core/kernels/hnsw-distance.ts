/**
 * Vector storage and distances for the HNSW index (hnsw.ts), computed with WebAssembly SIMD
 * (f32x4) where the engine has it, and with an exact JavaScript emulation where it does not.
 *
 * Why WebAssembly: scalar JavaScript spends ~280 ns on one 128-d squared-L2 distance here, the
 * f32x4 loop below ~30-50 ns (bench/kernels-hnsw.ts); HNSW search is mostly distances. WebAssembly
 * is not native code: it runs unchanged in Node and every current browser (SIMD since Chrome 91,
 * Firefox 89, Safari 16.4), and the module is 229 bytes assembled below, compiled once.
 *
 * Determinism: WebAssembly float arithmetic is IEEE-754 binary32 with round-to-nearest and no
 * fused multiply-add (only the separate relaxed-SIMD proposal allows FMA), so every engine computes
 * the same bits. The fallback does the same operations in the same order (4 lanes, lane sum
 * ((l0 + l1) + l2) + l3), rounding each to float32 with Math.fround: a double result of +, −, ×
 * on two float32 values rounded once to float32 is the correctly rounded float32 result (the double
 * has more than 2·24 + 2 bits), so the fallback is bit-identical (test/core/kernels/hnsw.test.ts).
 *
 * Layout: one WebAssembly memory per index; vector slot s (slot 0 is the query scratch, stored
 * vector id lives in slot id + 1) holds `stride` float32 values, dim rounded up to a multiple of 4
 * and zero-padded (zeros add nothing to a sum of squares or products).
 */

import { wasmIfAvailable } from './wasm-api.ts'
import type { WasmMemory, WasmModuleObject } from './wasm-api.ts'
import { WasmWriter } from './wasm-binary.ts'

type WasmDistance = (a: number, b: number, n: number) => number


/**
 * (func (param $a i32) (param $b i32) (param $n i32) (result f32)), locals 3 acc:v128 4 d:v128
 * 5 end:i32: end = a + 4n; loop { acc = f32x4.add(TERM, acc); a += 16; b += 16; br_if (a < end) };
 * return ((acc[0] + acc[1]) + acc[2]) + acc[3]. TERM is d*d with d = a − b (l2) or a*b (dot).
 */
function distanceModule (): Uint8Array {
  const head = [0x02, 0x02, 0x7b, 0x01, 0x7f, 0x20, 0, 0x20, 2, 0x41, 2, 0x74, 0x6a, 0x21, 5, 0x03, 0x40]
  const load = [0x20, 0, 0xfd, 0, 0, 0, 0x20, 1, 0xfd, 0, 0, 0]
  const step = [0x20, 0, 0x41, 0x10, 0x6a, 0x21, 0, 0x20, 1, 0x41, 0x10, 0x6a, 0x21, 1, 0x20, 0, 0x20, 5, 0x49, 0x0d, 0, 0x0b]
  const tail = [0x20, 3, 0xfd, 0x1f, 0, 0x20, 3, 0xfd, 0x1f, 1, 0x92, 0x20, 3, 0xfd, 0x1f, 2, 0x92, 0x20, 3, 0xfd, 0x1f, 3, 0x92, 0x0b]
  const accumulate = [0x20, 3, 0xfd, 0xe4, 1, 0x21, 3]
  const l2 = [...head, ...load, 0xfd, 0xe5, 1, 0x22, 4, 0x20, 4, 0xfd, 0xe6, 1, ...accumulate, ...step, ...tail]
  const dot = [...head, ...load, 0xfd, 0xe6, 1, ...accumulate, ...step, ...tail]
  const code = new WasmWriter()
  code.u32(2)
  for (const fn of [l2, dot]) { code.u32(fn.length); code.bytes(new Uint8Array(fn)) }
  const w = new WasmWriter()
  w.bytes(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))
  w.section(1, new Uint8Array([1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7d]))
  w.section(3, new Uint8Array([2, 0, 0]))
  w.section(5, new Uint8Array([1, 0, 1]))
  w.section(7, new Uint8Array([3, 1, 0x6d, 2, 0, 2, 0x6c, 0x32, 0, 0, 3, 0x64, 0x6f, 0x74, 0, 1]))
  w.section(10, code.finish())
  return w.finish()
}

let compiled: WasmModuleObject | null | undefined
function wasmModule (): WasmModuleObject | null {
  if (compiled === undefined) {
    try { compiled = wasmIfAvailable === undefined ? null : new wasmIfAvailable.Module(distanceModule()) } catch { compiled = null }
  }
  return compiled
}

/** Whether this engine runs the WebAssembly SIMD path. @example wasmSimdAvailable() // true in Node 24 */
export function wasmSimdAvailable (): boolean { return wasmModule() !== null }

const PAGE = 65536

/**
 * Float32 vectors in slots, with the index's distance: 'l2' is the float32 sum of squares; 'ip' is
 * 1 − (float32 dot product), computed in double from the float32 dot.
 *
 * @example
 * const arena = new VectorArena(3, 'l2', true)
 * arena.ensure(2); arena.write(1, new Float32Array([0, 0, 0]), 0, 1); arena.write(2, new Float32Array([1, 2, 2]), 0, 1)
 * arena.distance(1, 2) // 9
 */
export class VectorArena {
  readonly dim: number
  readonly stride: number
  readonly kind: 'l2' | 'ip'
  /** Slots available (including the query slot 0). */
  capacity = 0
  /** A view over all slots; replaced when memory grows. */
  values: Float32Array
  #memory: WasmMemory | null = null
  #fn: WasmDistance | null = null

  constructor (dim: number, kind: 'l2' | 'ip', useWasm = true) {
    this.dim = dim
    this.stride = (dim + 3) & ~3
    this.kind = kind
    const mod = useWasm ? wasmModule() : null
    if (mod !== null && wasmIfAvailable !== undefined) {
      const exports = new wasmIfAvailable.Instance(mod, {}).exports
      this.#memory = exports.m as WasmMemory
      this.#fn = (kind === 'l2' ? exports.l2 : exports.dot) as WasmDistance
      this.values = new Float32Array(this.#memory.buffer)
      this.capacity = Math.floor(this.values.length / this.stride)
    } else {
      this.values = new Float32Array(0)
    }
  }

  /** Make room for `slots` slots (grows by doubling). @example arena.ensure(101) */
  ensure (slots: number): void {
    if (slots <= this.capacity) return
    const want = Math.max(slots, this.capacity * 2, 16)
    const bytes = want * this.stride * 4
    if (this.#memory !== null) {
      const have = this.#memory.buffer.byteLength
      if (bytes > have) this.#memory.grow(Math.ceil((bytes - have) / PAGE))
      this.values = new Float32Array(this.#memory.buffer)
    } else {
      const next = new Float32Array(want * this.stride); next.set(this.values); this.values = next
    }
    this.capacity = Math.floor(this.values.length / this.stride)
  }

  /** Write `dim` values from `src[off..]`, each times `scale` rounded to float32, into `slot`. @example arena.write(0, query, 0, 1) */
  write (slot: number, src: Float32Array, off: number, scale: number): void {
    const base = slot * this.stride; const v = this.values
    if (scale === 1) v.set(src.subarray(off, off + this.dim), base)
    else for (let i = 0; i < this.dim; i++) v[base + i] = (src[off + i] as number) * scale
    for (let i = this.dim; i < this.stride; i++) v[base + i] = 0
  }

  /** The distance between two slots. @example arena.distance(0, 5) */
  distance (a: number, b: number): number {
    const fn = this.#fn
    const r = fn !== null ? fn(a * this.stride * 4, b * this.stride * 4, this.stride) : emulate(this.values, a * this.stride, b * this.stride, this.stride, this.kind === 'l2')
    return this.kind === 'l2' ? r : 1 - r
  }
}

/** The WebAssembly loop, operation for operation, in float32 (see the module doc). */
function emulate (v: Float32Array, a: number, b: number, n: number, squares: boolean): number {
  const f = Math.fround
  let s0 = 0; let s1 = 0; let s2 = 0; let s3 = 0
  for (let i = 0; i < n; i += 4) {
    if (squares) {
      const d0 = f((v[a + i] as number) - (v[b + i] as number)); const d1 = f((v[a + i + 1] as number) - (v[b + i + 1] as number))
      const d2 = f((v[a + i + 2] as number) - (v[b + i + 2] as number)); const d3 = f((v[a + i + 3] as number) - (v[b + i + 3] as number))
      s0 = f(f(d0 * d0) + s0); s1 = f(f(d1 * d1) + s1); s2 = f(f(d2 * d2) + s2); s3 = f(f(d3 * d3) + s3)
    } else {
      s0 = f(f((v[a + i] as number) * (v[b + i] as number)) + s0); s1 = f(f((v[a + i + 1] as number) * (v[b + i + 1] as number)) + s1)
      s2 = f(f((v[a + i + 2] as number) * (v[b + i + 2] as number)) + s2); s3 = f(f((v[a + i + 3] as number) * (v[b + i + 3] as number)) + s3)
    }
  }
  return f(f(f(s0 + s1) + s2) + s3)
}
