/**
 * The `custom_wasm` kernel: runs a submitter's WebAssembly module on an input, metered by fuel.
 *
 * ## The ABI (version 1)
 *
 * A module defines (does not import) one memory and exports:
 *
 * - `memory`: its memory;
 * - `alloc(len: i32) -> i32`: where the host should write `len` input bytes;
 * - `run(ptr: i32, len: i32) -> i64`: compute on the input at `ptr..ptr+len` and return
 *   `(outPtr << 32) | outLen` (both unsigned); the output is `memory[outPtr .. outPtr+outLen]`.
 *
 * The host instantiates the module, sets the fuel budget, calls the start function if any, then
 * `alloc`, writes the input, calls `run` and copies the output out. All three calls draw on the one
 * budget. The only import a module may have is `env.abort(code: i32)`, which ends the run with
 * `ERR_WASM_TRAP` naming the code. A minimal module (WebAssembly text format) that echoes its input:
 *
 * ```wat
 * (module
 *   (memory (export "memory") 1 16)
 *   (func (export "alloc") (param $len i32) (result i32) (i32.const 1024))
 *   (func (export "run") (param $ptr i32) (param $len i32) (result i64)
 *     (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
 *             (i64.extend_i32_u (local.get $len)))))
 * ```
 *
 * ## Limits
 *
 * Module <= 4 MiB ({@link MAX_MODULE_BYTES}); input <= 16 MiB; memory cap `maxMemoryPages`
 * (default 256 pages = 16 MiB, at most 1024 = 64 MiB; initial pages above it are refused, growth
 * past it fails as `memory.grow` returning -1); output <= `maxOutputBytes` (default 1 MiB, at most
 * 16 MiB); fuel budget 1..1e13 (the price table's maximum for custom_wasm). See wasm-module.ts
 * for what the module checks refuse and wasm-meter.ts for how fuel is counted.
 *
 * ## Determinism and agreement
 *
 * `fuelUsed` depends only on the module, the input and the path taken, so it is the task's size at
 * settlement (economy/prices.ts prices custom_wasm by fuel) and the redundant workers report the
 * same value; `agree` compares the exact bytes of `{output, fuelUsed}`. Two sources of
 * disagreement remain and are the module author's to avoid: NaN bit patterns (the spec lets an
 * engine choose them, §4.3.3) and how deep recursion may go before a stack overflow (per engine).
 *
 * `run` here executes in the caller's thread: fuel bounds it. Wall time is enforced by the worker
 * pool (src/adapters/workers), which runs kernels in worker threads and terminates one that passes
 * its deadline (`ERR_WASM_TIMEOUT`).
 */
import { encodeCanonical } from '../codec/index.ts'
import { equalBytes } from '../bytes.ts'
import { TASK_PRICES } from '../economy/prices.ts'
import { KernelError } from './errors.ts'
import { PayloadFields } from './fields.ts'
import type { Kernel, KernelRunOptions } from './types.ts'
import { DEFAULT_MEMORY_PAGES, FUEL_EXPORT, MAX_MEMORY_PAGES, MAX_MODULE_BYTES, START_EXPORT, prepareModule } from './wasm-module.ts'
import type { PreparedModule } from './wasm-module.ts'
import { wasm } from './wasm-api.ts'
import type { WasmGlobal, WasmInstance, WasmMemory } from './wasm-api.ts'

export { MAX_MODULE_BYTES, MAX_MEMORY_PAGES, DEFAULT_MEMORY_PAGES } from './wasm-module.ts'

/** Largest input, in bytes (16 MiB). @example MAX_WASM_INPUT_BYTES === 16_777_216 */
export const MAX_WASM_INPUT_BYTES = 16 * 1024 * 1024

/** Output cap when the payload names none (1 MiB). @example DEFAULT_WASM_OUTPUT_BYTES === 1_048_576 */
export const DEFAULT_WASM_OUTPUT_BYTES = 1024 * 1024

/** Largest output cap a payload may ask for (16 MiB). @example MAX_WASM_OUTPUT_BYTES === 16_777_216 */
export const MAX_WASM_OUTPUT_BYTES = 16 * 1024 * 1024

/** Largest fuel budget: the price table's maxSize for custom_wasm (1e13). @example MAX_WASM_FUEL === 1e13 */
export const MAX_WASM_FUEL = TASK_PRICES.custom_wasm.maxSize

const MAX_PAYLOAD_BYTES = MAX_MODULE_BYTES + MAX_WASM_INPUT_BYTES + 1024

/** A custom_wasm task as the submitter states it. @example const p: CustomWasmPayload = { module, input, fuel: 1e9 } */
export interface CustomWasmPayload {
  /** The module's binary (the ABI above). */
  module: Uint8Array
  /** The bytes handed to `run`. */
  input: Uint8Array
  /** The fuel budget: the most instructions the run may execute; the task's escrowed size. */
  fuel: number
  /** Memory cap in 64 KiB pages (default 256, at most 1024). */
  maxMemoryPages?: number
  /** Output cap in bytes (default 1 MiB, at most 16 MiB). */
  maxOutputBytes?: number
}

/** What a run returns. @example const o: CustomWasmOutput = { output: new Uint8Array(), fuelUsed: 12 } */
export interface CustomWasmOutput {
  output: Uint8Array
  /** Fuel the run used: its size at settlement. */
  fuelUsed: number
}

function bad (message: string): KernelError {
  return new KernelError('ERR_KERNEL_BAD_PAYLOAD', message)
}

function intIn (value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `${what} must be an integer in [${min}, ${max}], got ${String(value)}`)
  }
  return value
}

function checkPayload (p: CustomWasmPayload): Required<CustomWasmPayload> {
  if (!(p.module instanceof Uint8Array)) throw bad('module must be a byte string')
  if (!(p.input instanceof Uint8Array)) throw bad('input must be a byte string')
  if (p.module.length > MAX_MODULE_BYTES) throw new KernelError('ERR_WASM_INVALID_MODULE', `the module is ${p.module.length} bytes, more than ${MAX_MODULE_BYTES}`)
  if (p.input.length > MAX_WASM_INPUT_BYTES) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `the input is ${p.input.length} bytes, more than ${MAX_WASM_INPUT_BYTES}`)
  return {
    module: p.module,
    input: p.input,
    fuel: intIn(p.fuel, 1, MAX_WASM_FUEL, 'fuel'),
    maxMemoryPages: intIn(p.maxMemoryPages ?? DEFAULT_MEMORY_PAGES, 1, MAX_MEMORY_PAGES, 'maxMemoryPages'),
    maxOutputBytes: intIn(p.maxOutputBytes ?? DEFAULT_WASM_OUTPUT_BYTES, 0, MAX_WASM_OUTPUT_BYTES, 'maxOutputBytes')
  }
}

/**
 * Encode a custom_wasm payload (canonical CBOR), checking its fields.
 *
 * @example
 * const payload = encodeCustomWasmPayload({ module, input: utf8('hi'), fuel: 1_000_000 })
 */
export function encodeCustomWasmPayload (payload: CustomWasmPayload): Uint8Array {
  const p = checkPayload(payload)
  const map: Record<string, unknown> = { module: p.module, input: p.input, fuel: p.fuel }
  if (payload.maxMemoryPages !== undefined) map.maxMemoryPages = p.maxMemoryPages
  if (payload.maxOutputBytes !== undefined) map.maxOutputBytes = p.maxOutputBytes
  return encodeCanonical(map)
}

/**
 * Decode and check a custom_wasm payload (not the module's contents: see {@link customWasmKernel}.size).
 *
 * @throws KernelError `ERR_KERNEL_BAD_PAYLOAD`, `ERR_KERNEL_PAYLOAD_TOO_LARGE`, `ERR_KERNEL_BAD_PARAMETER`,
 *   `ERR_WASM_INVALID_MODULE` (module too large).
 * @example decodeCustomWasmPayload(encodeCustomWasmPayload({ module, input, fuel: 10 })).fuel // 10
 */
export function decodeCustomWasmPayload (bytes: Uint8Array): Required<CustomWasmPayload> {
  const f = PayloadFields.decode(bytes, { maxBytes: MAX_PAYLOAD_BYTES, what: 'custom_wasm payload' })
  f.only([], ['module', 'input', 'fuel', 'maxMemoryPages', 'maxOutputBytes'])
  // checkPayload checks the values' types: it also guards what a client hands to the encoder.
  const p: CustomWasmPayload = { module: f.value('module') as Uint8Array, input: f.value('input') as Uint8Array, fuel: f.value('fuel') as number }
  if (f.has('maxMemoryPages')) p.maxMemoryPages = f.value('maxMemoryPages') as number
  if (f.has('maxOutputBytes')) p.maxOutputBytes = f.value('maxOutputBytes') as number
  return checkPayload(p)
}

/** Encode a run's output. @example encodeCustomWasmOutput({ output: new Uint8Array([1]), fuelUsed: 5 }) */
export function encodeCustomWasmOutput (out: CustomWasmOutput): Uint8Array {
  return encodeCanonical({ output: out.output, fuelUsed: out.fuelUsed })
}

/**
 * Decode a run's output.
 * @throws KernelError `ERR_KERNEL_BAD_PAYLOAD` for anything {@link encodeCustomWasmOutput} could not have produced.
 * @example decodeCustomWasmOutput(await customWasmKernel.run(payload)).fuelUsed
 */
export function decodeCustomWasmOutput (bytes: Uint8Array): CustomWasmOutput {
  const maxBytes = MAX_WASM_OUTPUT_BYTES + 64
  // Anything the encoder could not have produced is malformed, an oversized output included.
  if (bytes instanceof Uint8Array && bytes.length > maxBytes) throw bad(`output is ${bytes.length} bytes, more than ${maxBytes}`)
  const f = PayloadFields.decode(bytes, { maxBytes, what: 'custom_wasm output', rangeCode: 'ERR_KERNEL_BAD_PAYLOAD' }).only(['fuelUsed', 'output'])
  const output = f.bytes('output')
  if (output.length > MAX_WASM_OUTPUT_BYTES) throw f.error(`output is ${output.length} bytes, more than ${MAX_WASM_OUTPUT_BYTES}`)
  return { output, fuelUsed: f.int('fuelUsed', { min: 0, max: MAX_WASM_FUEL }) }
}

/** Raised by the `env.abort` host function; only ever seen inside {@link runPrepared}. */
class ModuleAbort extends Error {
  readonly abortCode: number
  constructor (code: number) { super(`env.abort(${code})`); this.abortCode = code }
}

function classify (err: unknown, fuel: WasmGlobal | undefined): KernelError {
  if (err instanceof KernelError) return err
  if (err instanceof ModuleAbort) return new KernelError('ERR_WASM_TRAP', `the module called env.abort(${err.abortCode})`)
  if (fuel !== undefined && typeof fuel.value === 'bigint' && fuel.value < 0n) return new KernelError('ERR_WASM_OUT_OF_FUEL', 'the run used up its fuel budget')
  if (err instanceof RangeError) return new KernelError('ERR_WASM_TRAP', `trap: stack overflow (${err.message})`, { cause: err })
  return new KernelError('ERR_WASM_TRAP', `trap: ${(err as Error)?.message ?? String(err)}`, { cause: err })
}

/**
 * Instantiate a prepared module and run the ABI on `input`. Exported for the worker pool and
 * the benchmark; tasks go through {@link customWasmKernel}.
 *
 * @example
 * const out = await runPrepared(prepareModule(bytes, { maxMemoryPages: 256 }), input, { fuel: 1e9, maxOutputBytes: 1 << 20 })
 */
export async function runPrepared (prepared: PreparedModule, input: Uint8Array, limits: { fuel: number, maxOutputBytes: number }): Promise<CustomWasmOutput> {
  let instance: WasmInstance
  try {
    const module = await wasm.compile(prepared.bytes)
    instance = await wasm.instantiate(module, { env: { abort: (code: number) => { throw new ModuleAbort(code) } } })
  } catch (err) {
    if (err instanceof wasm.CompileError) throw new KernelError('ERR_WASM_INVALID_MODULE', `the module does not compile: ${(err as Error).message}`, { cause: err })
    if (err instanceof RangeError) throw new KernelError('ERR_WASM_MEMORY_LIMIT', `the engine could not allocate the module's memory: ${(err as Error).message}`, { cause: err })
    throw new KernelError('ERR_WASM_TRAP', `instantiation failed: ${(err as Error).message}`, { cause: err })
  }
  const ex = instance.exports
  const memory = ex.memory as WasmMemory
  const fuel = ex[FUEL_EXPORT] as WasmGlobal
  const alloc = ex.alloc as (len: number) => number
  const run = ex.run as (ptr: number, len: number) => bigint
  const budget = BigInt(limits.fuel)
  fuel.value = budget
  try {
    if (prepared.hasStart) (ex[START_EXPORT] as () => void)()
    const ptr = alloc(input.length) >>> 0
    if (ptr + input.length > memory.buffer.byteLength) throw new KernelError('ERR_WASM_TRAP', `alloc returned ${ptr}, and ${input.length} input bytes do not fit there in ${memory.buffer.byteLength} bytes of memory`)
    new Uint8Array(memory.buffer, ptr, input.length).set(input)
    const packed = BigInt.asUintN(64, run(ptr, input.length))
    const outPtr = Number(packed >> 32n)
    const outLen = Number(packed & 0xffffffffn)
    if (outLen > limits.maxOutputBytes) throw new KernelError('ERR_WASM_OUTPUT_TOO_LARGE', `the output is ${outLen} bytes, more than the cap of ${limits.maxOutputBytes}`)
    if (outPtr + outLen > memory.buffer.byteLength) throw new KernelError('ERR_WASM_TRAP', `the output ${outPtr}+${outLen} lies outside the ${memory.buffer.byteLength} bytes of memory`)
    const output = new Uint8Array(memory.buffer, outPtr, outLen).slice()
    return { output, fuelUsed: Number(budget - (fuel.value as bigint)) }
  } catch (err) {
    throw classify(err, fuel)
  }
}

/**
 * The custom_wasm kernel. `size` is the fuel budget (what the submitter escrows, economy/prices.ts);
 * the output's `fuelUsed` is what settlement charges. `agree` is exact bytes of `{output, fuelUsed}`.
 *
 * @example
 * const payload = encodeCustomWasmPayload({ module, input, fuel: 1_000_000 })
 * customWasmKernel.size(payload) // 1_000_000
 * const { output, fuelUsed } = decodeCustomWasmOutput(await customWasmKernel.run(payload))
 */
export const customWasmKernel: Kernel = Object.freeze({
  type: 'custom_wasm' as const,
  size (payload: Uint8Array): number {
    const p = decodeCustomWasmPayload(payload)
    prepareModule(p.module, { maxMemoryPages: p.maxMemoryPages })
    return p.fuel
  },
  async run (payload: Uint8Array, options: KernelRunOptions = {}): Promise<Uint8Array> {
    const p = decodeCustomWasmPayload(payload)
    const prepared = prepareModule(p.module, { maxMemoryPages: p.maxMemoryPages })
    options.signal?.throwIfAborted()
    return encodeCustomWasmOutput(await runPrepared(prepared, p.input, p))
  },
  agree (a: Uint8Array, b: Uint8Array): boolean {
    try {
      decodeCustomWasmOutput(a)
      decodeCustomWasmOutput(b)
    } catch {
      return false
    }
    return equalBytes(a, b)
  }
})
