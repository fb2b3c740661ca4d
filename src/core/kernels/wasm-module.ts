/**
 * Checking and rewriting an untrusted custom_wasm module before it is compiled (WebAssembly Core
 * Specification 2.0, §5.5 "Modules" for the section layout). `prepareModule` is pure and runs the
 * same in Node and in a browser:
 *
 * 1. size cap, then `WebAssembly.validate` (the engine's own validator: anything malformed stops here);
 * 2. imports: only the host functions of {@link HOST_IMPORTS} from module `env`, with their exact
 *    signatures; an imported memory, table, global or tag is refused (`ERR_WASM_FORBIDDEN_IMPORT`);
 * 3. memory: exactly one, defined by the module, 32-bit, not shared; initial pages above the cap are
 *    refused (`ERR_WASM_MEMORY_LIMIT`); the maximum is rewritten to min(declared, cap), so the engine
 *    itself enforces the cap on `memory.grow` (which then returns -1, as the spec says it may);
 * 4. tables: initial elements above {@link MAX_TABLE_ELEMENTS} refused, maximum clamped the same way;
 * 5. the ABI exports (`memory`, `alloc`, `run`, see custom-wasm.ts) exist with their signatures;
 * 6. fuel: a mutable i64 global is appended (no index of the module moves: imported globals are
 *    refused, so the new one is last) and exported as `__edge_fuel`, every body is metered
 *    (wasm-meter.ts), and a start function is no longer run by instantiation but exported as
 *    `__edge_start` so the host calls it after setting the budget (instantiation then runs no code).
 *    Custom sections are dropped (nothing needs them, and they are unmetered parse surface).
 *
 * Why not a library: `wasm-metering` (npm) was last published in 2018, works on Node Buffers and
 * a JSON AST, and knows no post-MVP opcode; `binaryen` is well kept but a ~10 MB compiled toolchain
 * that must be loaded asynchronously, too heavy for a browser embed that meters a small module. The
 * rewrite needs only the section headers and an instruction decoder (~300 lines here), and every
 * opcode it does not know is refused rather than passed through unmetered.
 */
import { KernelError } from './errors.ts'
import { WasmReader, WasmWriter, invalidModule as invalid } from './wasm-binary.ts'
import { meterFunctionBody } from './wasm-meter.ts'
import { wasm } from './wasm-api.ts'

/** Largest module accepted, in bytes (4 MiB: a typical optimised Rust or C module is 10 KB to 1 MB). @example MAX_MODULE_BYTES === 4_194_304 */
export const MAX_MODULE_BYTES = 4 * 1024 * 1024

/** Largest memory cap a payload may ask for: 1024 pages of 64 KiB = 64 MiB. @example MAX_MEMORY_PAGES === 1024 */
export const MAX_MEMORY_PAGES = 1024

/** Memory cap when the payload names none: 256 pages = 16 MiB. @example DEFAULT_MEMORY_PAGES === 256 */
export const DEFAULT_MEMORY_PAGES = 256

/** Most elements a table may hold (each is a pointer-sized reference). @example MAX_TABLE_ELEMENTS === 65_536 */
export const MAX_TABLE_ELEMENTS = 65_536

/** Export names the instrumentation adds; a module may not use this prefix. @example RESERVED_EXPORT_PREFIX === '__edge_' */
export const RESERVED_EXPORT_PREFIX = '__edge_'

/** Name of the exported fuel global. @example FUEL_EXPORT === '__edge_fuel' */
export const FUEL_EXPORT = '__edge_fuel'

/** Name under which a module's start function is exported. @example START_EXPORT === '__edge_start' */
export const START_EXPORT = '__edge_start'

const I32 = 0x7f
const I64 = 0x7e

/**
 * The host functions a module may import, all from module `env`. Only `abort(code: i32)`, which
 * ends the run with `ERR_WASM_TRAP` naming the code: the ABI needs nothing else, and every import
 * is a door out of the sandbox.
 *
 * @example Object.keys(HOST_IMPORTS) // ['abort']
 */
export const HOST_IMPORTS: Readonly<Record<string, { params: readonly number[], results: readonly number[] }>> = Object.freeze({
  abort: { params: [I32], results: [] }
})

/** What {@link prepareModule} enforces. @example const l: ModuleLimits = { maxMemoryPages: 256 } */
export interface ModuleLimits {
  /** The memory cap in 64 KiB pages, 1..MAX_MEMORY_PAGES. */
  readonly maxMemoryPages: number
}

/** A module ready to compile. @example const p: PreparedModule = prepareModule(bytes, { maxMemoryPages: 256 }) */
export interface PreparedModule {
  /** The instrumented module. */
  readonly bytes: Uint8Array
  /** Whether it has a start function, exported as {@link START_EXPORT}. */
  readonly hasStart: boolean
  /** Declared initial pages and the enforced maximum. */
  readonly memory: { readonly initial: number, readonly maximum: number }
}

interface FuncType { params: number[], results: number[] }
interface Section { id: number, start: number, end: number }

// Spec §5.5.2: non-custom sections appear in this order (the tag section, 13, sits after memory).
const ORDER: Readonly<Record<number, number>> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 }
const GLOBAL_RANK = 7

function sameTypes (a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

function readLimits (r: WasmReader, what: string): { min: number, max: number | undefined } {
  const flags = r.byte()
  if (flags === 0x00) return { min: r.u32(), max: undefined }
  if (flags === 0x01) return { min: r.u32(), max: r.u32() }
  if (flags === 0x02 || flags === 0x03) throw invalid(`a shared ${what} is not allowed (no threads in the sandbox)`)
  throw invalid(`${what} limits flag 0x${flags.toString(16)} (64-bit or unknown) is not supported`)
}

function writeLimits (w: WasmWriter, min: number, max: number): void {
  w.byte(0x01); w.u32(min); w.u32(max)
}

/**
 * Check a custom_wasm module against the sandbox's rules and return it instrumented for fuel.
 *
 * @throws KernelError `ERR_WASM_INVALID_MODULE` (too large, does not validate, unsupported feature,
 *   missing or mistyped ABI export, reserved export name), `ERR_WASM_FORBIDDEN_IMPORT`,
 *   `ERR_WASM_MEMORY_LIMIT`.
 * @example
 * const { bytes } = prepareModule(moduleBytes, { maxMemoryPages: DEFAULT_MEMORY_PAGES })
 * const module = await WebAssembly.compile(bytes)
 */
export function prepareModule (module: Uint8Array, limits: ModuleLimits): PreparedModule {
  const cap = limits.maxMemoryPages
  if (!Number.isSafeInteger(cap) || cap < 1 || cap > MAX_MEMORY_PAGES) {
    throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `maxMemoryPages must be an integer in [1, ${MAX_MEMORY_PAGES}], got ${String(cap)}`)
  }
  if (module.length > MAX_MODULE_BYTES) throw invalid(`the module is ${module.length} bytes, more than ${MAX_MODULE_BYTES}`)
  let valid = false
  try { valid = wasm.validate(module) } catch { valid = false }
  if (!valid) throw invalid('the module does not validate (WebAssembly.validate)')

  const r = new WasmReader(module)
  r.skip(8) // magic and version: WebAssembly.validate checked them
  const sections: Section[] = []
  while (!r.done()) {
    const id = r.byte()
    const size = r.u32()
    const start = r.pos
    r.skip(size)
    if (id === 13) throw invalid('exception handling (tag section) is not supported')
    if (id !== 0 && ORDER[id] === undefined) throw invalid(`unknown section id ${id}`)
    sections.push({ id, start, end: r.pos })
  }
  const reader = (s: Section): WasmReader => new WasmReader(module, s.start, s.end)
  const find = (id: number): Section | undefined => sections.find(s => s.id === id)

  // Types (§5.5.4): plain function types only (no GC recursion groups).
  const types: FuncType[] = []
  const typeSection = find(1)
  if (typeSection !== undefined) {
    const tr = reader(typeSection)
    const n = tr.count(3)
    for (let i = 0; i < n; i++) {
      if (tr.byte() !== 0x60) throw invalid('only function types are supported in the type section (no GC types)')
      const params = Array.from({ length: tr.count(1) }, () => tr.byte())
      const results = Array.from({ length: tr.count(1) }, () => tr.byte())
      types.push({ params, results })
    }
  }
  const typeAt = (index: number): FuncType => {
    const t = types[index]
    if (t === undefined) throw invalid(`type index ${index} out of range`)
    return t
  }

  // Imports (§5.5.5): functions from `env` named in HOST_IMPORTS, with their signatures; nothing else.
  const funcTypes: number[] = []
  const importSection = find(2)
  if (importSection !== undefined) {
    const ir = reader(importSection)
    const n = ir.count(4)
    for (let i = 0; i < n; i++) {
      const from = ir.name()
      const field = ir.name()
      const kind = ir.byte()
      const label = `${JSON.stringify(from)}.${JSON.stringify(field)}`
      if (kind !== 0) throw new KernelError('ERR_WASM_FORBIDDEN_IMPORT', `import ${label} is a ${['function', 'table', 'memory', 'global', 'tag'][kind] ?? 'kind ' + kind}: a module must define its own memory, tables and globals`)
      const typeIndex = ir.u32()
      const host = from === 'env' && Object.hasOwn(HOST_IMPORTS, field) ? HOST_IMPORTS[field] : undefined
      if (host === undefined) throw new KernelError('ERR_WASM_FORBIDDEN_IMPORT', `import ${label} is not one the sandbox gives (only env.${Object.keys(HOST_IMPORTS).join(', env.')})`)
      const t = typeAt(typeIndex)
      if (!sameTypes(t.params, host.params) || !sameTypes(t.results, host.results)) {
        throw new KernelError('ERR_WASM_FORBIDDEN_IMPORT', `import ${label} has the wrong signature`)
      }
      funcTypes.push(typeIndex)
    }
  }
  const importedFunctions = funcTypes.length

  const functionSection = find(3)
  if (functionSection !== undefined) {
    const fr = reader(functionSection)
    const n = fr.count(1)
    for (let i = 0; i < n; i++) funcTypes.push(fr.u32())
  }

  // Tables (§5.5.6): clamp.
  const tableOut = new WasmWriter()
  const tableSection = find(4)
  if (tableSection !== undefined) {
    const tr = reader(tableSection)
    const n = tr.count(3)
    tableOut.u32(n)
    for (let i = 0; i < n; i++) {
      const ref = tr.byte()
      if (ref !== 0x70 && ref !== 0x6f) throw invalid('only funcref and externref tables are supported')
      const { min, max } = readLimits(tr, 'table')
      if (min > MAX_TABLE_ELEMENTS) throw new KernelError('ERR_WASM_MEMORY_LIMIT', `a table declares ${min} initial elements, more than ${MAX_TABLE_ELEMENTS}`)
      tableOut.byte(ref)
      writeLimits(tableOut, min, Math.min(max ?? MAX_TABLE_ELEMENTS, MAX_TABLE_ELEMENTS))
    }
  }

  // Memory (§5.5.7): exactly one, capped.
  const memorySection = find(5)
  const mr = memorySection === undefined ? undefined : reader(memorySection)
  const memories = mr === undefined ? 0 : mr.count(2)
  if (memories !== 1 || mr === undefined) throw invalid(`the module must define exactly one memory, it defines ${memories}`)
  const declared = readLimits(mr, 'memory')
  if (declared.min > cap) throw new KernelError('ERR_WASM_MEMORY_LIMIT', `the module declares ${declared.min} initial memory pages, more than the cap of ${cap}`)
  const maximum = Math.min(declared.max ?? cap, cap)
  const memoryOut = new WasmWriter()
  memoryOut.u32(1)
  writeLimits(memoryOut, declared.min, maximum)

  // Globals (§5.5.9): keep the module's, append the fuel global.
  const globalSection = find(6)
  const gr = globalSection === undefined ? undefined : reader(globalSection)
  const globals = gr === undefined ? 0 : gr.count(4)
  const globalOut = new WasmWriter()
  globalOut.u32(globals + 1)
  if (gr !== undefined) globalOut.bytes(module.subarray(gr.pos, gr.end))
  globalOut.bytes(new Uint8Array([I64, 0x01, 0x42, 0x00, 0x0b])) // (global (mut i64) (i64.const 0))
  const fuelGlobal = globals

  // Start (§5.5.11): exported instead of run at instantiation.
  const startSection = find(8)
  const startFunction = startSection === undefined ? undefined : reader(startSection).u32()

  // Exports (§5.5.10): the ABI, no reserved names; add ours.
  const exportSection = find(7)
  if (exportSection === undefined) throw invalid('the module exports nothing; it must export memory, alloc and run')
  const er = reader(exportSection)
  const exports = er.count(3)
  const exportsStart = er.pos
  const abi = new Map<string, { kind: number, index: number }>()
  for (let i = 0; i < exports; i++) {
    const name = er.name()
    const kind = er.byte()
    const index = er.u32()
    if (name.startsWith(RESERVED_EXPORT_PREFIX)) throw invalid(`export name ${JSON.stringify(name)} uses the reserved prefix ${RESERVED_EXPORT_PREFIX}`)
    abi.set(name, { kind, index })
  }
  const exportedFunction = (name: string, params: number[], results: number[]): void => {
    const e = abi.get(name)
    if (e === undefined || e.kind !== 0) throw invalid(`the module must export a function named ${name}`)
    const typeIndex = funcTypes[e.index]
    if (typeIndex === undefined || e.index < importedFunctions) throw invalid(`export ${name} is not a function the module defines`)
    const t = typeAt(typeIndex)
    if (!sameTypes(t.params, params) || !sameTypes(t.results, results)) throw invalid(`export ${name} has the wrong signature (see the custom_wasm ABI)`)
  }
  const memoryExport = abi.get('memory')
  if (memoryExport === undefined || memoryExport.kind !== 2) throw invalid('the module must export its memory as "memory"')
  exportedFunction('alloc', [I32], [I32])
  exportedFunction('run', [I32, I32], [I64])
  const exportOut = new WasmWriter()
  exportOut.u32(exports + 1 + (startFunction === undefined ? 0 : 1))
  exportOut.bytes(module.subarray(exportsStart, exportSection.end))
  exportOut.name(FUEL_EXPORT); exportOut.byte(3); exportOut.u32(fuelGlobal)
  if (startFunction !== undefined) { exportOut.name(START_EXPORT); exportOut.byte(0); exportOut.u32(startFunction) }

  // Code (§5.5.13): meter every body.
  const codeOut = new WasmWriter(module.length * 2)
  const codeSection = find(10)
  if (codeSection !== undefined) {
    const cr = reader(codeSection)
    const n = cr.count(2)
    codeOut.u32(n)
    for (let i = 0; i < n; i++) {
      const typeIndex = funcTypes[importedFunctions + i]
      if (typeIndex === undefined) throw invalid('more function bodies than functions')
      const size = cr.u32()
      const body = meterFunctionBody(cr.take(size), { paramCount: typeAt(typeIndex).params.length, fuelGlobal })
      codeOut.u32(body.length)
      codeOut.bytes(body)
    }
  }

  // Reassemble in the spec's order, with a global section even if the module had none.
  const out = new WasmWriter(module.length * 2 + 256)
  out.bytes(module.subarray(0, 8))
  let globalWritten = false
  for (const s of sections) {
    if (s.id === 0 || s.id === 8) continue
    if (!globalWritten && (ORDER[s.id] as number) >= GLOBAL_RANK) { out.section(6, globalOut.finish()); globalWritten = true }
    if (s.id === 4) out.section(4, tableOut.finish())
    else if (s.id === 5) out.section(5, memoryOut.finish())
    else if (s.id === 6) continue
    else if (s.id === 7) out.section(7, exportOut.finish())
    else if (s.id === 10) out.section(10, codeOut.finish())
    else out.section(s.id, module.subarray(s.start, s.end))
  }
  if (!globalWritten) out.section(6, globalOut.finish())
  return { bytes: out.finish(), hasStart: startFunction !== undefined, memory: { initial: declared.min, maximum } }
}

