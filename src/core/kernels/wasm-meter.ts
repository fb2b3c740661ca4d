/**
 * Fuel metering by instrumentation: rewrites one function body so that it charges a mutable i64
 * global ("fuel") for the instructions it is about to run and traps (`unreachable`) as soon as the
 * global goes negative. One fuel is one WebAssembly instruction of the original module.
 *
 * Where it charges (the scheme of wasm-instrument's gas metering and of wasm-metering, simplified):
 * a metering frame is a function body, a `loop` body, an `if` arm or an `else` arm; `block` bodies
 * are folded into their enclosing frame (they run at most once per entry of it). At the start of
 * each frame we subtract the number of instructions written directly in that frame (a nested
 * construct's opening instruction counts in the outer frame, its `end` in the inner one). A branch
 * or trap that leaves a frame early has paid for all of it, so the charge is an upper bound, and it
 * is deterministic: it depends only on the module and the path taken, never on the machine, so the
 * redundant workers of a task report the same `fuelUsed`. Every loop iteration and every call
 * charges at least 1, so no run outlives its budget by more than one frame's instructions.
 *
 * Bulk instructions do work proportional to an operand, so they are charged by it too:
 * `memory.fill/copy/init` 1 fuel per 16 bytes, `table.fill/copy/init` 1 fuel per 2 elements, on top
 * of their 1. `memory.grow` is not: what it can allocate is bounded by the memory cap.
 *
 * The decoder accepts the instruction set of WebAssembly 2.0 without SIMD (spec §5.4: MVP, sign
 * extension, non-trapping float-to-int, bulk memory, reference types, multi-value block types) and
 * tail calls; any other opcode (SIMD, atomics, exceptions, GC, ...) is refused with
 * `ERR_WASM_INVALID_MODULE`, so nothing it does not understand is left unmetered.
 */
import { KernelError } from './errors.ts'
import { WasmReader, WasmWriter } from './wasm-binary.ts'

/** What the metering of one body needs to know about the module. @example const ctx: MeterContext = { paramCount: 2, fuelGlobal: 3 } */
export interface MeterContext {
  /** Parameters of the function (its first locals). */
  readonly paramCount: number
  /** Index of the fuel global the instrumentation added. */
  readonly fuelGlobal: number
}

const KIND_PLAIN = 0
const KIND_BLOCK = 1
const KIND_LOOP = 2
const KIND_IF = 3
const KIND_ELSE = 4
const KIND_END = 5
const KIND_BULK_MEMORY = 6
const KIND_BULK_TABLE = 7

/** Byte-shift of the dynamic charge: fuel = length >> shift. */
const BULK_MEMORY_SHIFT = 4
const BULK_TABLE_SHIFT = 1

function refuse (what: string): KernelError {
  return new KernelError('ERR_WASM_INVALID_MODULE', `the sandbox does not run ${what}`)
}

function blockType (r: WasmReader): void {
  const b = r.peek()
  if (b === 0x40 || b === 0x7f || b === 0x7e || b === 0x7d || b === 0x7c || b === 0x70 || b === 0x6f) {
    r.byte()
    return
  }
  if (b === 0x7b) throw refuse('SIMD (v128) values')
  if (r.sleb(33) < 0) throw refuse('this block type')
}

function memarg (r: WasmReader): void {
  const align = r.u32()
  if (align >= 64) throw refuse('multiple memories')
  r.u32()
}

function zeroIndex (r: WasmReader, what: string): void {
  if (r.u32() !== 0) throw refuse(what)
}

/** Consume one instruction's immediates (its opcode already read) and say what kind it is. */
function instruction (r: WasmReader, op: number): number {
  if (op >= 0x45 && op <= 0xc4) return KIND_PLAIN // numeric, MVP §5.4.7 and sign extension
  if (op >= 0x28 && op <= 0x3e) { memarg(r); return KIND_PLAIN }
  switch (op) {
    case 0x00: case 0x01: case 0x0f: case 0x1a: case 0x1b: case 0xd1: return KIND_PLAIN
    case 0x02: blockType(r); return KIND_BLOCK
    case 0x03: blockType(r); return KIND_LOOP
    case 0x04: blockType(r); return KIND_IF
    case 0x05: return KIND_ELSE
    case 0x0b: return KIND_END
    case 0x0c: case 0x0d: case 0x10: case 0x12: case 0xd2:
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
      r.u32(); return KIND_PLAIN
    case 0x0e: {
      const n = r.count(1)
      for (let i = 0; i <= n; i++) r.u32()
      return KIND_PLAIN
    }
    case 0x11: case 0x13: r.u32(); r.u32(); return KIND_PLAIN
    case 0x1c: {
      const n = r.count(1)
      for (let i = 0; i < n; i++) if (r.byte() === 0x7b) throw refuse('SIMD (v128) values')
      return KIND_PLAIN
    }
    case 0x3f: case 0x40: zeroIndex(r, 'multiple memories'); return KIND_PLAIN
    case 0x41: r.sleb(32); return KIND_PLAIN
    case 0x42: r.sleb(64); return KIND_PLAIN
    case 0x43: r.skip(4); return KIND_PLAIN
    case 0x44: r.skip(8); return KIND_PLAIN
    case 0xd0: r.byte(); return KIND_PLAIN
    case 0xfc: return prefixedFC(r)
    case 0xfd: throw refuse('SIMD instructions (0xFD prefix)')
    case 0xfe: throw refuse('atomic instructions (0xFE prefix)')
    case 0xfb: throw refuse('GC instructions (0xFB prefix)')
    default: throw refuse(`opcode 0x${op.toString(16).padStart(2, '0')}`)
  }
}

function prefixedFC (r: WasmReader): number {
  const sub = r.u32()
  if (sub <= 7) return KIND_PLAIN // i32/i64.trunc_sat_f32/f64_s/u
  switch (sub) {
    case 8: r.u32(); zeroIndex(r, 'multiple memories'); return KIND_BULK_MEMORY // memory.init
    case 9: r.u32(); return KIND_PLAIN // data.drop
    case 10: zeroIndex(r, 'multiple memories'); zeroIndex(r, 'multiple memories'); return KIND_BULK_MEMORY // memory.copy
    case 11: zeroIndex(r, 'multiple memories'); return KIND_BULK_MEMORY // memory.fill
    case 12: r.u32(); r.u32(); return KIND_BULK_TABLE // table.init
    case 13: r.u32(); return KIND_PLAIN // elem.drop
    case 14: r.u32(); r.u32(); return KIND_BULK_TABLE // table.copy
    case 15: case 16: r.u32(); return KIND_PLAIN // table.grow (bounded by the table cap), table.size
    case 17: r.u32(); return KIND_BULK_TABLE // table.fill
    default: throw refuse(`instruction 0xFC ${sub}`)
  }
}

function writeCheck (w: WasmWriter, fuel: number): void {
  w.byte(0x23); w.u32(fuel) // global.get fuel
  w.byte(0x42); w.byte(0x00) // i64.const 0
  w.byte(0x53) // i64.lt_s
  w.byte(0x04); w.byte(0x40) // if
  w.byte(0x00) // unreachable
  w.byte(0x0b) // end
}

function writeCharge (w: WasmWriter, fuel: number, amount: number): void {
  w.byte(0x23); w.u32(fuel) // global.get fuel
  w.byte(0x42); w.sleb(amount) // i64.const amount
  w.byte(0x7d) // i64.sub
  w.byte(0x24); w.u32(fuel) // global.set fuel
  writeCheck(w, fuel)
}

/** Charge `length >> shift` where the i32 length is on top of the stack, leaving it there. */
function writeDynamicCharge (w: WasmWriter, fuel: number, temp: number, shift: number): void {
  w.byte(0x22); w.u32(temp) // local.tee temp
  w.byte(0x23); w.u32(fuel) // global.get fuel
  w.byte(0x20); w.u32(temp) // local.get temp
  w.byte(0xad) // i64.extend_i32_u
  w.byte(0x42); w.sleb(shift) // i64.const shift
  w.byte(0x88) // i64.shr_u
  w.byte(0x7d) // i64.sub
  w.byte(0x24); w.u32(fuel) // global.set fuel
  writeCheck(w, fuel)
}

/**
 * Instrument one function body (its bytes after the size prefix: locals then expression) and
 * return the new body. Throws `ERR_WASM_INVALID_MODULE` for an opcode outside the supported set.
 *
 * @example
 * // (func nop) = locals 0, nop, end
 * meterFunctionBody(new Uint8Array([0x00, 0x01, 0x0b]), { paramCount: 0, fuelGlobal: 0 })
 */
export function meterFunctionBody (body: Uint8Array, ctx: MeterContext): Uint8Array {
  const r = new WasmReader(body)
  const groups = r.count(2)
  let locals = 0
  for (let i = 0; i < groups; i++) {
    locals += r.u32()
    if (r.byte() === 0x7b) throw refuse('SIMD (v128) values')
  }
  const exprStart = r.pos

  // Pass 1: decode and count the instructions of each metering frame, in the order frames open.
  // Nothing is kept per instruction (pass 2 decodes again), so a 4 MiB body of `nop`s costs no
  // more memory than its output.
  const counts: number[] = [0]
  const stack: number[] = [0] // metering frame of each open construct; [0] is the function body
  let hasBulk = false
  while (!r.done()) {
    const kind = instruction(r, r.byte())
    const top = stack[stack.length - 1]
    if (top === undefined) throw new KernelError('ERR_WASM_INVALID_MODULE', 'instructions after the end of a function body')
    counts[top] = (counts[top] as number) + 1
    if (kind === KIND_BLOCK) stack.push(top)
    else if (kind === KIND_LOOP || kind === KIND_IF) stack.push(counts.push(0) - 1)
    else if (kind === KIND_ELSE) stack[stack.length - 1] = counts.push(0) - 1
    else if (kind === KIND_END) stack.pop()
    else if (kind === KIND_BULK_MEMORY || kind === KIND_BULK_TABLE) hasBulk = true
  }
  if (stack.length !== 0) throw new KernelError('ERR_WASM_INVALID_MODULE', 'a function body does not end where its size says')

  // Pass 2: copy, inserting the charges (frames are met in the same order as in pass 1).
  const w = new WasmWriter(body.length * 2 + 64)
  const temp = ctx.paramCount + locals
  if (hasBulk) {
    w.u32(groups + 1)
    w.bytes(body.subarray(uleb128Length(body), exprStart))
    w.u32(1); w.byte(0x7f) // one extra i32 local: the bulk instructions' length operand
  } else {
    w.bytes(body.subarray(0, exprStart))
  }
  writeCharge(w, ctx.fuelGlobal, counts[0] as number)
  let nextFrame = 1
  const r2 = new WasmReader(body, exprStart)
  while (!r2.done()) {
    const start = r2.pos
    const kind = instruction(r2, r2.byte())
    if (kind === KIND_BULK_MEMORY) writeDynamicCharge(w, ctx.fuelGlobal, temp, BULK_MEMORY_SHIFT)
    if (kind === KIND_BULK_TABLE) writeDynamicCharge(w, ctx.fuelGlobal, temp, BULK_TABLE_SHIFT)
    w.bytes(body.subarray(start, r2.pos))
    if (kind === KIND_LOOP || kind === KIND_IF || kind === KIND_ELSE) writeCharge(w, ctx.fuelGlobal, counts[nextFrame++] as number)
  }
  return w.finish()
}

/** Byte length of the unsigned LEB128 at the start of `bytes`. */
function uleb128Length (bytes: Uint8Array): number {
  let i = 0
  while (((bytes[i] ?? 0) & 0x80) !== 0) i++
  return i + 1
}
