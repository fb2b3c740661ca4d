/**
 * custom_wasm figures: the cost of admitting a module (validate + instrument + compile +
 * instantiate) and the run-time cost of fuel metering, each measured against the same module
 * compiled plain in the same run, so the ratios hold on a noisy machine.
 *
 * The "typical module" is synthetic (built with the tests' assembler): 200 functions, each a
 * counted loop over memory with branches and arithmetic, ~15 KB, the size of a small optimised Rust
 * or C kernel.
 */
import type { Figure } from './run.ts'
import { prepareModule, DEFAULT_MEMORY_PAGES } from '../src/core/kernels/wasm-module.ts'
import { runPrepared } from '../src/core/kernels/custom-wasm.ts'
import { wasm } from '../src/core/kernels/wasm-api.ts'
import type { WasmMemory } from '../src/core/kernels/wasm-api.ts'
import { ALLOC_1024, OP, T, buildModule, i32, i64, runFunc, sumModule } from '../test/fixtures/wasm/builder.ts'
import type { FuncDef } from '../test/fixtures/wasm/builder.ts'

function typicalModule (variant: number): Uint8Array {
  const worker = (k: number): FuncDef => ({
    params: [T.i32, T.i32], results: [T.i32], locals: [[2, T.i32]],
    body: [
      OP.block, OP.void, OP.loop, OP.void,
      OP.localGet, 2, OP.localGet, 1, OP.i32GeU, OP.brIf, 1,
      OP.localGet, 3, OP.localGet, 0, OP.localGet, 2, OP.i32Add, OP.i32Load8U, 0, 0,
      ...i32(k), OP.i32Mul, OP.i32Add, OP.localSet, 3,
      OP.localGet, 3, ...i32(1), 0x71, OP.if, OP.void, OP.localGet, 3, ...i32(3), OP.i32Add, OP.localSet, 3, OP.else, OP.localGet, 3, ...i32(7), 0x73, OP.localSet, 3, OP.end,
      OP.localGet, 2, ...i32(1), OP.i32Add, OP.localSet, 2,
      OP.br, 0, OP.end, OP.end,
      OP.localGet, 3
    ]
  })
  // `variant` changes one constant, so every module is new bytes: V8 caches compiled modules by
  // their bytes, and a cache hit would measure nothing.
  const fns: FuncDef[] = [{ ...ALLOC_1024, body: i32(1024 + variant) }, runFunc([...i64(0)])]
  for (let k = 0; k < 200; k++) fns.push(worker(k))
  return buildModule({ functions: fns })
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1] as number
}

async function timeIt (n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn()
    out.push(performance.now() - t)
  }
  return out
}

export async function run (): Promise<Figure[]> {
  const N = 60
  const modules = Array.from({ length: 2 * N }, (_, i) => typicalModule(i))
  const typical = modules[0] as Uint8Array
  let next = 0
  const admit: number[] = []
  const plain: number[] = []
  for (let i = 0; i < N; i++) {
    // interleaved, so both see the same machine
    admit.push(...await timeIt(1, async () => {
      const prepared = prepareModule(modules[next++] as Uint8Array, { maxMemoryPages: DEFAULT_MEMORY_PAGES })
      await wasm.instantiate(await wasm.compile(prepared.bytes), { env: { abort: () => {} } })
    }))
    plain.push(...await timeIt(1, async () => {
      const m = modules[next++] as Uint8Array
      wasm.validate(m)
      await wasm.instantiate(await wasm.compile(m))
    }))
  }
  const instantiateMs = median(admit)
  const plainMs = median(plain)

  // Fuel overhead: the byte-summing loop over 4 MiB, metered vs plain.
  const input = new Uint8Array(4 << 20).fill(3)
  const sum = sumModule({ min: 80, max: 80 })
  const prepared = prepareModule(sum, { maxMemoryPages: DEFAULT_MEMORY_PAGES })
  const plainInstance = await wasm.instantiate(await wasm.compile(sum))
  const ex = plainInstance.exports as { memory: WasmMemory, alloc: (n: number) => number, run: (p: number, l: number) => bigint }
  new Uint8Array(ex.memory.buffer, 1024, input.length).set(input)
  const meteredRun = async (): Promise<unknown> => await runPrepared(prepared, input, { fuel: 1e12, maxOutputBytes: 16 })
  const plainRun = async (): Promise<unknown> => { new Uint8Array(ex.memory.buffer, 1024, input.length).set(input); return ex.run(1024, input.length) }
  await timeIt(5, meteredRun) // warm up: let both tier up to the optimising compiler
  await timeIt(5, plainRun)
  const metered: number[] = []
  const unmetered: number[] = []
  for (let i = 0; i < 15; i++) { metered.push(...await timeIt(1, meteredRun)); unmetered.push(...await timeIt(1, plainRun)) }
  const fuelRatio = median(metered) / median(unmetered)
  const fuelUsed = (await runPrepared(prepared, input, { fuel: 1e12, maxOutputBytes: 16 })).fuelUsed
  const fuelPerMs = fuelUsed / median(metered)

  return [
    { key: 'kernels.wasm.instantiate_ms', value: Number(instantiateMs.toFixed(2)), unit: 'ms', note: `median of 60: validate + instrument + compile + instantiate of a ${Math.round(typical.length / 1024)} KB module with 202 functions; plain validate + compile + instantiate of the same module ${plainMs.toFixed(2)} ms in the same run` },
    { key: 'kernels.wasm.instantiate_overhead', value: Number((instantiateMs / plainMs).toFixed(2)), unit: 'x', note: 'admission with the sandbox\'s checks and fuel instrumentation, over plain compile + instantiate' },
    { key: 'kernels.wasm.fuel_overhead', value: Number(fuelRatio.toFixed(2)), unit: 'x', note: `run time of a byte-summing loop over 4 MiB, metered (incl. instantiate and input copy) over plain; ${(fuelPerMs / 1000).toFixed(0)}k fuel/ms` }
  ]
}
