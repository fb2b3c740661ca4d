import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { describeWorkload, expectedOutput, fnv1aWasmModule, mixedWorkload, WORKLOAD_MAX_COUNT, WORKLOAD_MAX_PAYLOAD_BYTES, WORKLOAD_TYPES } from '../../src/runtime/workload.ts'
import type { WorkloadTask } from '../../src/runtime/workload.ts'
import { KERNELS } from '../../src/core/kernels/registry.ts'
import { TASK_PRICES, TASK_TYPES } from '../../src/core/economy/prices.ts'
import type { TaskType } from '../../src/core/economy/prices.ts'
import { customWasmKernel, decodeCustomWasmOutput, encodeCustomWasmPayload } from '../../src/core/kernels/custom-wasm.ts'
import { equalBytes } from '../../src/core/bytes.ts'
import { kernelError } from '../core/kernels/helpers.ts'

const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)
const SEEDS = [42, seed] as const
const N = WORKLOAD_TYPES.length

/** Run `fn`, and name the seed in its failure. */
async function withSeed (s: number, fn: () => unknown): Promise<void> {
  try { await fn() } catch (err) { throw new Error(`failed with seed ${s}; reproduce with SEED=${s}: ${(err as Error).message}`, { cause: err }) }
}

function sameTasks (a: readonly WorkloadTask[], b: readonly WorkloadTask[]): boolean {
  return a.length === b.length && a.every((t, i) => t.type === b[i]?.type && t.label === b[i]?.label && equalBytes(t.payload, b[i]?.payload as Uint8Array))
}

/** The 32-bit FNV-1a of `bytes`, in JavaScript (the reference for the WASM module). */
function fnv1a (bytes: Uint8Array): number {
  let h = 0x811c9dc5
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0
  return h
}

describe('workload', () => {
  describe('WORKLOAD_TYPES', () => {
    it('is every type that has a kernel (a new kernel without a builder fails here), and not federated_round', () => {
      assert.deepEqual([...WORKLOAD_TYPES], TASK_TYPES.filter(t => KERNELS[t] !== undefined))
      assert.equal(WORKLOAD_TYPES.length, 8)
      assert.ok(!WORKLOAD_TYPES.includes('federated_round'))
    })
  })

  describe('mixedWorkload()', () => {
    for (const s of SEEDS) {
      it(`holds every type once in each round of ${N} tasks (seed ${s})`, async () => withSeed(s, () => {
        const tasks = mixedWorkload({ seed: s, count: 3 * N + 3 })
        assert.equal(tasks.length, 3 * N + 3)
        for (let r = 0; r < 3; r++) assert.deepEqual(tasks.slice(r * N, (r + 1) * N).map(t => t.type).sort(), [...WORKLOAD_TYPES].sort(), `round ${r}`)
        assert.equal(new Set(tasks.slice(3 * N).map(t => t.type)).size, 3, 'the partial round has no repeats')
        const first = mixedWorkload({ seed: s, count: N })
        assert.deepEqual(Object.keys(describeWorkload(first)).sort(), [...WORKLOAD_TYPES].sort())
      }))

      it(`is deterministic: the same seed gives byte-identical tasks, and n tasks are a prefix of n + k (seed ${s})`, async () => withSeed(s, () => {
        const a = mixedWorkload({ seed: s, count: 2 * N })
        const b = mixedWorkload({ seed: s, count: 2 * N })
        assert.ok(sameTasks(a, b))
        assert.ok(sameTasks(mixedWorkload({ seed: s, count: N + 3 }), a.slice(0, N + 3)))
      }))

      it(`changes with the seed: every payload differs (seed ${s} against ${s + 1})`, async () => withSeed(s, () => {
        const a = mixedWorkload({ seed: s, count: 2 * N })
        const b = mixedWorkload({ seed: s + 1, count: 2 * N })
        const same = a.filter((t, i) => equalBytes(t.payload, b[i]?.payload as Uint8Array)).map(t => t.label)
        assert.deepEqual(same, [], 'payloads equal across seeds')
        assert.notDeepEqual(a.map(t => t.type), b.map(t => t.type), 'same type order for two seeds (chance: 1 in 40320²)')
      }))

      it(`makes payloads each kernel accepts, runs and agrees with itself on, under ${WORKLOAD_MAX_PAYLOAD_BYTES} bytes in and out (seed ${s})`, async () => withSeed(s, async () => {
        const started = performance.now()
        const tasks = mixedWorkload({ seed: s, count: 4 * N })
        console.log(`# workload seed ${s}: generated ${tasks.length} tasks in ${(performance.now() - started).toFixed(1)} ms`)
        const figures = new Map<TaskType, { payload: number[], output: number[], ms: number[] }>()
        for (const task of tasks) {
          const kernel = KERNELS[task.type]
          assert.ok(kernel !== undefined, task.type)
          const size = kernel.size(task.payload)
          assert.ok(Number.isSafeInteger(size) && size >= 1 && size <= TASK_PRICES[task.type].maxSize, `${task.label}: size ${size}`)
          const start = performance.now()
          const a = await kernel.run(task.payload)
          const ms = performance.now() - start
          const b = await expectedOutput(task)
          assert.ok(kernel.agree(a, b), `${task.label}: two runs disagree`)
          assert.ok(equalBytes(a, b) || !['encryption', 'compression', 'custom_wasm', 'vector_insert'].includes(task.type), `${task.label}: an exact kernel gave two outputs`)
          assert.ok(task.payload.length < WORKLOAD_MAX_PAYLOAD_BYTES, `${task.label}: payload of ${task.payload.length} bytes`)
          assert.ok(a.length < WORKLOAD_MAX_PAYLOAD_BYTES, `${task.label}: output of ${a.length} bytes`)
          assert.ok(task.label.length > 0 && task.label.length <= 64, task.label)
          const f = figures.get(task.type) ?? { payload: [], output: [], ms: [] }
          f.payload.push(task.payload.length); f.output.push(a.length); f.ms.push(ms)
          figures.set(task.type, f)
        }
        // Figures, printed, never asserted (the machine is shared; the first run of a type includes JIT).
        for (const [type, f] of figures) {
          console.log(`# workload seed ${s} ${type}: payload ${Math.min(...f.payload)}..${Math.max(...f.payload)} B, output <= ${Math.max(...f.output)} B, run ${f.ms.map(x => x.toFixed(1)).join('/')} ms`)
        }
      }))
    }

    it('draws only the requested types, repeated ones once', () => {
      const tasks = mixedWorkload({ seed, count: 10, types: ['encryption', 'custom_wasm', 'encryption'] })
      assert.deepEqual(describeWorkload(tasks), { encryption: 5, custom_wasm: 5 })
    })

    it('counts 0 tasks as an empty workload', () => {
      assert.deepEqual(mixedWorkload({ seed, count: 0 }), [])
      assert.deepEqual(describeWorkload([]), {})
    })

    it('refuses a type without a kernel (ERR_KERNEL_UNKNOWN_TYPE) and bad seeds, counts and type lists (ERR_KERNEL_BAD_PARAMETER)', () => {
      assert.throws(() => mixedWorkload({ seed: 1, count: 1, types: ['federated_round'] }), kernelError('ERR_KERNEL_UNKNOWN_TYPE'))
      assert.throws(() => mixedWorkload({ seed: 1, count: 1, types: ['mining' as TaskType] }), kernelError('ERR_KERNEL_UNKNOWN_TYPE'))
      for (const bad of [1.5, Number.NaN, 2 ** 53, '1' as unknown as number]) {
        assert.throws(() => mixedWorkload({ seed: bad, count: 1 }), kernelError('ERR_KERNEL_BAD_PARAMETER'), String(bad))
      }
      for (const bad of [-1, 0.5, WORKLOAD_MAX_COUNT + 1, Number.POSITIVE_INFINITY]) {
        assert.throws(() => mixedWorkload({ seed: 1, count: bad }), kernelError('ERR_KERNEL_BAD_PARAMETER'), String(bad))
      }
      assert.throws(() => mixedWorkload({ seed: 1, count: 1, types: [] }), kernelError('ERR_KERNEL_BAD_PARAMETER'))
    })

    it('accepts any safe-integer seed, negative and large ones included, deterministically (property)', () => {
      try {
        fc.assert(fc.property(fc.maxSafeInteger(), fc.integer({ min: 0, max: 2 * N }), (s, count) => {
          const a = mixedWorkload({ seed: s, count, types: ['encryption', 'embedding', 'semantic_match'] })
          const b = mixedWorkload({ seed: s, count, types: ['encryption', 'embedding', 'semantic_match'] })
          assert.equal(a.length, count)
          assert.ok(sameTasks(a, b))
          for (const t of a) assert.ok((KERNELS[t.type]?.size(t.payload) ?? 0) >= 1, t.label)
        }), { seed, numRuns: 50 })
      } catch (err) {
        throw new Error(`property failed; reproduce with SEED=${seed}: ${(err as Error).message}`, { cause: err })
      }
    })
  })

  describe('expectedOutput()', () => {
    it('is the local kernel run, and uses the kernels it is given', async () => {
      const [task] = mixedWorkload({ seed, count: 1, types: ['encryption'] })
      assert.ok(task !== undefined)
      assert.deepEqual(await expectedOutput(task), await KERNELS.encryption?.run(task.payload))
      const fake = { ...KERNELS.encryption!, run: async () => new Uint8Array([7]) }
      assert.deepEqual(await expectedOutput(task, { kernels: { encryption: fake } }), new Uint8Array([7]))
      await assert.rejects(expectedOutput(task, { kernels: {} }), kernelError('ERR_KERNEL_UNKNOWN_TYPE'))
    })
  })

  describe('describeWorkload()', () => {
    it('counts each type, in the price table order, summing to the task count', () => {
      const tasks = mixedWorkload({ seed, count: 2 * N + 5 })
      const counts = describeWorkload(tasks)
      assert.deepEqual(Object.keys(counts), TASK_TYPES.filter(t => counts[t] !== undefined))
      assert.equal(Object.values(counts).reduce((x, y) => x + y, 0), tasks.length)
      for (const type of WORKLOAD_TYPES) assert.ok((counts[type] ?? 0) >= 2, type)
    })
  })

  describe('fnv1aWasmModule()', () => {
    it('computes the 32-bit FNV-1a hash of its input under the custom_wasm kernel (property)', async () => {
      // Known answers (Fowler/Noll/Vo test vectors): '' → 0x811c9dc5, 'a' → 0xe40c292c.
      assert.equal(fnv1a(new Uint8Array(0)), 0x811c9dc5)
      assert.equal(fnv1a(new TextEncoder().encode('a')), 0xe40c292c)
      try {
        await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async input => {
          const out = decodeCustomWasmOutput(await customWasmKernel.run(encodeCustomWasmPayload({ module: fnv1aWasmModule(), input, fuel: 1e6 })))
          assert.equal(new DataView(out.output.buffer, out.output.byteOffset, 4).getUint32(0, true), fnv1a(input))
        }), { seed, numRuns: 40 })
      } catch (err) {
        throw new Error(`property failed; reproduce with SEED=${seed}: ${(err as Error).message}`, { cause: err })
      }
    })

    it('returns a fresh copy each call', () => {
      const m = fnv1aWasmModule(); m[0] = 0xff
      assert.equal(fnv1aWasmModule()[0], 0x00)
    })
  })
})
