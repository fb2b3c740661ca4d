/**
 * The WebAssembly JS API (W3C WebAssembly JavaScript Interface), typed as far as the custom_wasm
 * kernel uses it. It is present alike in Node and browsers, but neither of the project's type
 * configurations declares it (it lives in TypeScript's DOM lib, which the core must not see), so the
 * kernel reaches it through `globalThis` with these few types instead of a global declaration.
 */

/** A compiled module. @example const m: WasmModuleObject = await wasm.compile(bytes) */
export interface WasmModuleObject { readonly __brand?: 'WebAssembly.Module' }

/** An exported memory. @example (exports.memory as WasmMemory).buffer.byteLength */
export interface WasmMemory { readonly buffer: ArrayBuffer }

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
  readonly CompileError: new (...args: never[]) => Error
  readonly LinkError: new (...args: never[]) => Error
  readonly RuntimeError: new (...args: never[]) => Error
}

/**
 * The platform's WebAssembly.
 *
 * @example
 * const module = await wasm.compile(bytes)
 */
export const wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
