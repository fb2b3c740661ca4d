/**
 * The WebAssembly JS API (W3C WebAssembly JavaScript Interface), typed as far as the kernels use it
 * (custom_wasm, and HNSW's SIMD distances in hnsw-distance.ts). It is present alike in Node and
 * browsers, but neither of the project's type configurations declares it (it lives in TypeScript's
 * DOM lib, which the core must not see), so the kernels reach it through `globalThis` with these few
 * types instead of a global declaration.
 */

/** A compiled module. @example const m: WasmModuleObject = await wasm.compile(bytes) */
export interface WasmModuleObject { readonly __brand?: 'WebAssembly.Module' }

/** An exported memory. @example (exports.memory as WasmMemory).buffer.byteLength */
export interface WasmMemory {
  readonly buffer: ArrayBuffer
  /** Grow by `pages` 64 KiB pages; returns the old size in pages (throws a RangeError past the maximum). */
  grow (pages: number): number
}

/** An exported global (an i64 global's value is a bigint). @example (exports.g as WasmGlobal).value = 5n */
export interface WasmGlobal { value: unknown }

/** Host functions by module and field name. @example const i: WasmImports = { env: { abort: () => {} } } */
export type WasmImports = Record<string, Record<string, (...args: never[]) => unknown>>

/** An instance. @example instance.exports.run */
export interface WasmInstance { readonly exports: Record<string, unknown> }

/** The parts of the `WebAssembly` namespace the kernel uses. @example wasm.validate(bytes) */
export interface WasmApi {
  validate (bytes: Uint8Array): boolean
  compile (bytes: Uint8Array): Promise<WasmModuleObject>
  instantiate (module: WasmModuleObject, imports?: WasmImports): Promise<WasmInstance>
  /** Synchronous compilation (engines may refuse large modules on a browser's main thread). */
  readonly Module: new (bytes: Uint8Array) => WasmModuleObject
  /** Synchronous instantiation. */
  readonly Instance: new (module: WasmModuleObject, imports?: WasmImports) => WasmInstance
  readonly CompileError: new (...args: never[]) => Error
  readonly LinkError: new (...args: never[]) => Error
  readonly RuntimeError: new (...args: never[]) => Error
}

/**
 * The platform's WebAssembly, or undefined in an engine without it (a JIT-less or locked-down
 * one): for code with a fallback.
 *
 * @example
 * const module = wasmIfAvailable === undefined ? null : new wasmIfAvailable.Module(bytes)
 */
export const wasmIfAvailable: WasmApi | undefined = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly

/**
 * The platform's WebAssembly, for code that has no use without it (custom_wasm).
 *
 * @example
 * const module = await wasm.compile(bytes)
 */
export const wasm: WasmApi = wasmIfAvailable as WasmApi
