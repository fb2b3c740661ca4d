import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  customWasmKernel, encodeCustomWasmPayload, decodeCustomWasmPayload, decodeCustomWasmOutput, encodeCustomWasmOutput,
  MAX_WASM_FUEL, DEFAULT_MEMORY_PAGES
} from '../../../src/core/kernels/custom-wasm.ts'
import { prepareModule, MAX_MODULE_BYTES } from '../../../src/core/kernels/wasm-module.ts'
import { KernelError } from '../../../src/core/kernels/errors.ts'
import { encodeCanonical } from '../../../src/core/codec/index.ts'
import { wasm } from '../../../src/core/kernels/wasm-api.ts'
import { randomProgram, runUninstrumented } from '../../fixtures/wasm/random-program.ts'
import { check } from '../../helpers/property.ts'
import { checkAsync, kernelError } from './helpers.ts'
import { ALLOC_1024, OP, T, buildModule, echoModule, i32, i64, packed, runFunc, sumModule } from '../../fixtures/wasm/builder.ts'
import { hostileCorpus, infiniteLoop, memoryBombGrowing } from '../../fixtures/wasm/hostile.ts'

async function runWasm (module: Uint8Array, input: Uint8Array, fuel: number, extra: { maxMemoryPages?: number, maxOutputBytes?: number } = {}) {
  return decodeCustomWasmOutput(await customWasmKernel.run(encodeCustomWasmPayload({ module, input, fuel, ...extra })))
}

describe('custom_wasm kernel', () => {
  describe('the ABI', () => {
    it('runs the example module: echo, 10 fuel (2 for alloc, 8 for run)', async () => {
      const out = await runWasm(echoModule(), new Uint8Array([1, 2, 3]), 1000)
      assert.deepEqual(out.output, new Uint8Array([1, 2, 3]))
      assert.equal(out.fuelUsed, 10)
    })

    it('sums bytes; fuel is deterministic and affine in the loop count (17 per iteration)', async () => {
      const base = (await runWasm(sumModule(), new Uint8Array(0), 1e6)).fuelUsed
      await checkAsync(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async input => {
        const a = await customWasmKernel.run(encodeCustomWasmPayload({ module: sumModule(), input, fuel: 1e6 }))
        const b = await customWasmKernel.run(encodeCustomWasmPayload({ module: sumModule(), input, fuel: 1e6 }))
        assert.deepEqual(a, b)
        assert.ok(customWasmKernel.agree(a, b))
        const out = decodeCustomWasmOutput(a)
        const sum = input.reduce((s, x) => s + x, 0)
        assert.deepEqual(out.output, new Uint8Array(new Uint32Array([sum]).buffer))
        assert.equal(out.fuelUsed, base + 17 * input.length)
      }), 50)
    })

    it('a budget of exactly fuelUsed suffices and one less runs out (ERR_WASM_OUT_OF_FUEL)', async () => {
      await checkAsync(fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async input => {
        const used = (await runWasm(sumModule(), input, 1e6)).fuelUsed
        assert.equal((await runWasm(sumModule(), input, used)).fuelUsed, used)
        await assert.rejects(runWasm(sumModule(), input, used - 1), kernelError('ERR_WASM_OUT_OF_FUEL'))
      }), 30)
    })

    it('runs a start function under the same budget, after the budget is set', async () => {
      const start = { params: [], results: [], body: [OP.loop, OP.void, OP.br, 0, OP.end] }
      const module = buildModule({ functions: [ALLOC_1024, runFunc(i64(0)), start], start: 2 })
      await assert.rejects(runWasm(module, new Uint8Array(0), 10_000), kernelError('ERR_WASM_OUT_OF_FUEL'))
      // a start function that sets a global run sees
      const setter = { params: [], results: [], body: [...i32(42), OP.globalSet, 0] }
      const reads = runFunc([...i32(0), OP.globalGet, 0, OP.i32Store, 2, 0, ...i64(4)])
      const m2 = buildModule({ globals: [{ type: T.i32, mutable: true, init: i32(0) }], functions: [ALLOC_1024, reads, setter], start: 2 })
      assert.deepEqual((await runWasm(m2, new Uint8Array(0), 1000)).output, new Uint8Array([42, 0, 0, 0]))
    })

    it('env.abort ends the run with ERR_WASM_TRAP naming the code', async () => {
      const module = buildModule({
        imports: [{ module: 'env', name: 'abort', func: { params: [T.i32], results: [] } }],
        functions: [ALLOC_1024, runFunc([...i32(7), OP.call, 0, ...i64(0)])]
      })
      await assert.rejects(runWasm(module, new Uint8Array(0), 1000), (err: unknown) => kernelError('ERR_WASM_TRAP')(err) && /abort\(7\)/.test((err as Error).message))
    })

    it('charges bulk memory by length (1 fuel per 16 bytes)', async () => {
      // memory.fill(2048, 0xaa, len = input length * 64)
      const fill = (n: number) => buildModule({ functions: [ALLOC_1024, runFunc([...i32(2048), ...i32(0xaa), ...i32(n), 0xfc, 11, 0x00, ...i64(0)])] })
      const a = (await runWasm(fill(0), new Uint8Array(0), 1e9)).fuelUsed
      const b = (await runWasm(fill(16_000), new Uint8Array(0), 1e9)).fuelUsed
      assert.equal(b - a, 1000)
    })
  })

  describe('the sandbox', () => {
    it('answers every hostile corpus case with its error (in-process; the deadline case runs out of fuel here)', async () => {
      for (const c of hostileCorpus()) {
        const expect = c.code === 'ERR_WASM_TIMEOUT' ? 'ERR_WASM_OUT_OF_FUEL' : c.code
        await assert.rejects(runWasm(c.module, new Uint8Array(8), c.code === 'ERR_WASM_TIMEOUT' ? 1e7 : c.fuel), kernelError(expect), c.name)
      }
    })

    it('enforces the memory cap on growth: memory.grow stops at min(declared max, cap)', async () => {
      const pages = async (cap?: number) => new Uint32Array((await runWasm(memoryBombGrowing(), new Uint8Array(0), 1e7, cap === undefined ? {} : { maxMemoryPages: cap })).output.slice().buffer)[0]
      assert.equal(await pages(), DEFAULT_MEMORY_PAGES)
      assert.equal(await pages(3), 3)
      const declaredMax = buildModule({ memory: { min: 1, max: 65536, export: 'memory' }, functions: [ALLOC_1024, runFunc(i64(0))] })
      assert.equal(prepareModule(declaredMax, { maxMemoryPages: 8 }).memory.maximum, 8)
      await assert.rejects(runWasm(buildModule({ memory: { min: 9, export: 'memory' }, functions: [ALLOC_1024, runFunc(i64(0))] }), new Uint8Array(0), 10, { maxMemoryPages: 8 }), kernelError('ERR_WASM_MEMORY_LIMIT'))
    })

    it('caps tables', () => {
      const m = buildModule({ tables: [{ min: 70_000 }], functions: [ALLOC_1024, runFunc(i64(0))] })
      assert.throws(() => prepareModule(m, { maxMemoryPages: 8 }), kernelError('ERR_WASM_MEMORY_LIMIT'))
    })

    it('caps the output (maxOutputBytes) and refuses an output outside memory', async () => {
      await assert.rejects(runWasm(echoModule(), new Uint8Array(10), 1000, { maxOutputBytes: 9 }), kernelError('ERR_WASM_OUTPUT_TOO_LARGE'))
      assert.equal((await runWasm(echoModule(), new Uint8Array(10), 1000, { maxOutputBytes: 10 })).output.length, 10)
      const outside = buildModule({ functions: [ALLOC_1024, runFunc(packed(i32(65530), i32(16)))] })
      await assert.rejects(runWasm(outside, new Uint8Array(0), 1000), kernelError('ERR_WASM_TRAP'))
      const badAlloc = buildModule({ functions: [{ ...ALLOC_1024, body: i32(65535) }, runFunc(i64(0))] })
      await assert.rejects(runWasm(badAlloc, new Uint8Array(10), 1000), kernelError('ERR_WASM_TRAP'))
    })

    it('traps: unreachable, out-of-bounds load', async () => {
      await assert.rejects(runWasm(buildModule({ functions: [ALLOC_1024, runFunc([OP.unreachable])] }), new Uint8Array(0), 1000), kernelError('ERR_WASM_TRAP'))
      await assert.rejects(runWasm(buildModule({ functions: [ALLOC_1024, runFunc([...i32(1 << 20), OP.i32Load8U, 0, 0, OP.drop, ...i64(0)])] }), new Uint8Array(0), 1000), kernelError('ERR_WASM_TRAP'))
    })

    it('refuses malformed modules, missing or mistyped ABI exports, reserved names and unsupported features', () => {
      const refused = (module: Uint8Array, c = 'ERR_WASM_INVALID_MODULE') => assert.throws(() => prepareModule(module, { maxMemoryPages: 8 }), kernelError(c))
      refused(new Uint8Array([1, 2, 3]))
      refused(new Uint8Array(MAX_MODULE_BYTES + 1))
      refused(buildModule({ functions: [runFunc(i64(0))] })) // no alloc
      refused(buildModule({ functions: [ALLOC_1024] })) // no run
      refused(buildModule({ functions: [ALLOC_1024, { ...runFunc([...i32(0)]), results: [T.i32] }] })) // run returns i32
      refused(buildModule({ memory: { min: 1 }, functions: [ALLOC_1024, runFunc(i64(0))] })) // memory not exported
      refused(buildModule({ memory: null, functions: [ALLOC_1024, runFunc(i64(0))] })) // no memory
      refused(buildModule({ functions: [ALLOC_1024, runFunc(i64(0)), { params: [], results: [], body: [], export: '__edge_fuel' }] }))
      // SIMD: v128.const 0 then drop
      refused(buildModule({ functions: [ALLOC_1024, runFunc([0xfd, 0x0c, ...new Array(16).fill(0), OP.drop, ...i64(0)])] }))
    })

    it('never lets a mutated module past unless the instrumented result validates (seeded fuzz)', () => {
      const seeds = [echoModule(), sumModule(), memoryBombGrowing(), infiniteLoop()]
      check(fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (which, edits) => {
        const m = (seeds[which] as Uint8Array).slice()
        for (const [at, value] of edits) m[8 + at % (m.length - 8)] = value
        try {
          const p = prepareModule(m, { maxMemoryPages: 8 })
          assert.ok(wasm.validate(p.bytes), 'instrumented module does not validate')
        } catch (err) {
          assert.ok(err instanceof KernelError, `not a KernelError: ${String(err)}`)
        }
      }), 2000)
    })
  })

  describe('fuel instrumentation', () => {
    it('preserves what random structured programs compute (differential test against the uninstrumented module)', async () => {
      let loops = 0
      await checkAsync(fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async programSeed => {
        const module = randomProgram(programSeed)
        if (module.includes(0x03)) loops++
        const expected = await runUninstrumented(module)
        const a = await runWasm(module, new Uint8Array(0), 1e9, { maxOutputBytes: 1024 })
        const b = await runWasm(module, new Uint8Array(0), 1e9, { maxOutputBytes: 1024 })
        assert.deepEqual(a.output, expected)
        assert.equal(a.fuelUsed, b.fuelUsed)
        assert.ok(a.fuelUsed > 0)
        // the budget is exact: one fuel less runs out
        await assert.rejects(runWasm(module, new Uint8Array(0), a.fuelUsed - 1, { maxOutputBytes: 1024 }), kernelError('ERR_WASM_OUT_OF_FUEL'))
      }), 150)
      assert.ok(loops > 0)
    })
  })

  describe('payload and output', () => {
    it('round-trips a payload and sizes it by its fuel budget', () => {
      const payload = encodeCustomWasmPayload({ module: echoModule(), input: new Uint8Array([9]), fuel: 12345, maxOutputBytes: 7 })
      assert.equal(customWasmKernel.size(payload), 12345)
      const p = decodeCustomWasmPayload(payload)
      assert.equal(p.maxOutputBytes, 7)
      assert.equal(p.maxMemoryPages, DEFAULT_MEMORY_PAGES)
    })

    it('refuses bad payloads with precise codes, before running anything', () => {
      const module = echoModule()
      const input = new Uint8Array(0)
      assert.throws(() => customWasmKernel.size(new Uint8Array([0xff])), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      assert.throws(() => customWasmKernel.size(encodeCanonical([1])), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      assert.throws(() => customWasmKernel.size(encodeCanonical({ module, input, fuel: 1, extra: 1 })), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      assert.throws(() => customWasmKernel.size(encodeCanonical({ module: 'x', input, fuel: 1 })), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      for (const fuel of [0, -1, MAX_WASM_FUEL + 1, 'x']) {
        assert.throws(() => customWasmKernel.size(encodeCanonical({ module, input, fuel })), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      }
      assert.throws(() => customWasmKernel.size(encodeCanonical({ module, input, fuel: 1, maxMemoryPages: 1025 })), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.throws(() => customWasmKernel.size(encodeCanonical({ module, input, fuel: 1, maxOutputBytes: 2 ** 24 + 1 })), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      assert.throws(() => customWasmKernel.size(encodeCustomWasmPayload({ module: infiniteLoop().slice(0, 20), input, fuel: 1 })), kernelError('ERR_WASM_INVALID_MODULE'))
    })

    it('agree(): exact bytes of {output, fuelUsed}; malformed outputs agree with nothing and never throw', () => {
      const a = encodeCustomWasmOutput({ output: new Uint8Array([1]), fuelUsed: 5 })
      assert.ok(customWasmKernel.agree(a, a.slice()))
      assert.ok(!customWasmKernel.agree(a, encodeCustomWasmOutput({ output: new Uint8Array([1]), fuelUsed: 6 })))
      assert.ok(!customWasmKernel.agree(a, encodeCustomWasmOutput({ output: new Uint8Array([2]), fuelUsed: 5 })))
      check(fc.property(fc.uint8Array({ maxLength: 40 }), junk => {
        assert.equal(customWasmKernel.agree(junk, junk), (() => { try { decodeCustomWasmOutput(junk); return true } catch { return false } })())
      }), 500)
    })
  })
})
