import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { WorkerThreadsPool } from '../../../src/adapters/workers/worker-pool.ts'
import type { TaskEndInfo } from '../../../src/adapters/workers/worker-pool.ts'
import { WorkerPoolError } from '../../../src/adapters/workers/errors.ts'
import { customWasmKernel, encodeCustomWasmPayload, decodeCustomWasmOutput } from '../../../src/core/kernels/custom-wasm.ts'
import type { TaskType } from '../../../src/core/economy/prices.ts'
import { seed } from '../../helpers/property.ts'
import { echoModule, sumModule } from '../../fixtures/wasm/builder.ts'
import { kernelError } from '../../core/kernels/helpers.ts'

const KERNELS = new URL('../../fixtures/wasm/hostile-kernels.ts', import.meta.url)
const BROKEN = new URL('../../fixtures/wasm/broken-kernels.ts', import.meta.url)
async function until (ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise(resolve => setTimeout(resolve, 20))
  assert.ok(ok(), 'the condition held within 10 s')
}
const poolError = (code: string) => (err: unknown) => err instanceof WorkerPoolError && err.code === code

describe('WorkerThreadsPool', () => {
  it('runs custom_wasm in a worker with the same answer as in-process, across workers at once', async () => {
    const pool = WorkerThreadsPool.create({ size: 2 })
    try {
      const inputs = Array.from({ length: 8 }, (_, i) => new Uint8Array(i * 10).fill(i))
      const outs = await Promise.all(inputs.map(input => pool.run('custom_wasm', encodeCustomWasmPayload({ module: sumModule(), input, fuel: 1e6 }))))
      for (let i = 0; i < inputs.length; i++) {
        const local = await customWasmKernel.run(encodeCustomWasmPayload({ module: sumModule(), input: inputs[i] as Uint8Array, fuel: 1e6 }))
        assert.deepEqual(outs[i], local)
      }
      assert.deepEqual(decodeCustomWasmOutput(outs[1] as Uint8Array).output, new Uint8Array([10, 0, 0, 0]))
      const s = pool.stats()
      assert.equal(s.completed, 8)
      assert.equal(s.restarts, 0)
    } finally { await pool.close() }
  })

  it('transfers a payload that owns its buffer, and copies one that is a view', async () => {
    const pool = WorkerThreadsPool.create({ size: 1 })
    try {
      const own = encodeCustomWasmPayload({ module: echoModule(), input: new Uint8Array([1]), fuel: 100 }).slice()
      await pool.run('custom_wasm', own)
      assert.equal(own.buffer.byteLength, 0, 'transferred (detached)')
      const payload = encodeCustomWasmPayload({ module: echoModule(), input: new Uint8Array([2]), fuel: 100 })
      const big = new Uint8Array(payload.length + 10)
      big.set(payload, 5)
      await pool.run('custom_wasm', big.subarray(5, 5 + payload.length))
      assert.equal(big.length, payload.length + 10, 'the caller’s larger buffer is left alone')
      assert.equal(big.buffer.byteLength, payload.length + 10)
    } finally { await pool.close() }
  })

  it('hands back a kernel’s KernelError with its code; the worker survives', async () => {
    const pool = WorkerThreadsPool.create({ size: 1 })
    try {
      await assert.rejects(pool.run('custom_wasm', new Uint8Array([0xff])), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      await assert.rejects(pool.run('federated_round', new Uint8Array(1)), kernelError('ERR_KERNEL_UNKNOWN_TYPE'))
      await assert.rejects(pool.run('custom_wasm', encodeCustomWasmPayload({ module: sumModule(), input: new Uint8Array(100), fuel: 50 })), kernelError('ERR_WASM_OUT_OF_FUEL'))
      assert.equal(pool.stats().failed, 3)
      assert.equal(pool.stats().restarts, 0)
    } finally { await pool.close() }
  })

  it('fails a crashed worker’s task with ERR_WORKER_CRASHED and replaces the worker (exit, uncaught error, out of memory)', async () => {
    const pool = WorkerThreadsPool.create({ size: 1, kernelsModule: KERNELS, resourceLimits: { maxOldGenerationSizeMb: 48 } })
    try {
      for (const type of ['vector_search', 'embedding', 'encryption'] as TaskType[]) {
        await assert.rejects(pool.run(type, new Uint8Array(1)), poolError('ERR_WORKER_CRASHED'), type)
        assert.deepEqual(await pool.run('vector_insert', new Uint8Array([7])), new Uint8Array([7]), `a task after ${type} runs`)
      }
      await assert.rejects(pool.run('compression', new Uint8Array(1)), poolError('ERR_WORKER_TASK_FAILED'))
      const s = pool.stats()
      assert.equal(s.crashed, 3)
      assert.equal(s.restarts, 3)
      assert.equal(s.failed, 1)
    } finally { await pool.close() }
  })

  it('terminates a task past its deadline: ERR_WASM_TIMEOUT for custom_wasm, ERR_WORKER_TIMEOUT otherwise', async () => {
    const pool = WorkerThreadsPool.create({ size: 1, kernelsModule: KERNELS })
    try {
      await assert.rejects(pool.run('neural_inference', new Uint8Array(1), { deadlineMs: 100 }), poolError('ERR_WORKER_TIMEOUT'))
      const { infiniteLoop } = await import('../../fixtures/wasm/hostile.ts')
      await assert.rejects(pool.run('custom_wasm', encodeCustomWasmPayload({ module: infiniteLoop(), input: new Uint8Array(0), fuel: 1e13 }), { deadlineMs: 100 }), kernelError('ERR_WASM_TIMEOUT'))
      assert.deepEqual(await pool.run('vector_insert', new Uint8Array([1])), new Uint8Array([1]))
      assert.equal(pool.stats().timedOut, 2)
    } finally { await pool.close() }
  })

  it('aborts a queued task and a running one (terminating its worker)', async () => {
    const pool = WorkerThreadsPool.create({ size: 1, kernelsModule: KERNELS })
    try {
      const running = new AbortController()
      const queued = new AbortController()
      const a = pool.run('semantic_match', new Uint8Array([100]), { signal: running.signal })
      const b = pool.run('semantic_match', new Uint8Array([0]), { signal: queued.signal })
      queued.abort()
      await assert.rejects(b, poolError('ERR_WORKER_ABORTED'))
      await new Promise(resolve => setTimeout(resolve, 50))
      running.abort()
      await assert.rejects(a, poolError('ERR_WORKER_ABORTED'))
      await assert.rejects(pool.run('vector_insert', new Uint8Array(1), { signal: AbortSignal.abort() }), poolError('ERR_WORKER_ABORTED'))
      assert.deepEqual(await pool.run('vector_insert', new Uint8Array([3])), new Uint8Array([3]))
      assert.equal(pool.stats().aborted, 2, 'an already-aborted signal is refused before the task enters the pool')
    } finally { await pool.close() }
  })

  it('close() fails queued and running tasks with ERR_WORKER_POOL_CLOSED, and later runs too', async () => {
    const pool = WorkerThreadsPool.create({ size: 1, kernelsModule: KERNELS })
    const running = pool.run('semantic_match', new Uint8Array([100]))
    const queued = pool.run('vector_insert', new Uint8Array([1]))
    const settled = Promise.all([
      assert.rejects(running, poolError('ERR_WORKER_POOL_CLOSED')),
      assert.rejects(queued, poolError('ERR_WORKER_POOL_CLOSED'))
    ])
    await new Promise(resolve => setTimeout(resolve, 20))
    await pool.close()
    await settled
    await assert.rejects(pool.run('vector_insert', new Uint8Array(1)), poolError('ERR_WORKER_POOL_CLOSED'))
  })

  it('gives up, failing tasks instead of hanging, when workers die before they are ready', async () => {
    const pool = WorkerThreadsPool.create({ size: 1, kernelsModule: BROKEN })
    try {
      await assert.rejects(pool.run('vector_insert', new Uint8Array(1)), poolError('ERR_WORKER_CRASHED'))
      await assert.rejects(pool.run('vector_insert', new Uint8Array(1)), poolError('ERR_WORKER_CRASHED'))
    } finally { await pool.close() }
  })

  it('refuses bad options', () => {
    for (const init of [{ size: 0 }, { size: 65 }, { size: 1.5 }, { dutyCycle: 0.05 }, { dutyCycle: 1.1 }, { defaultDeadlineMs: 0 }, { idleMs: 0 }, { idleMs: 2.5 }, { idleMs: -Infinity }]) {
      assert.throws(() => WorkerThreadsPool.create(init), poolError('ERR_WORKER_POOL_BAD_OPTIONS'), JSON.stringify(init))
    }
  })

  it('refuses bad run options and duty cycles, leaving the pool as it was', async () => {
    const pool = WorkerThreadsPool.create({ size: 1, kernelsModule: KERNELS })
    try {
      await assert.rejects(pool.run('vector_insert', new Uint8Array(1), { deadlineMs: -5 }), poolError('ERR_WORKER_POOL_BAD_OPTIONS'))
      await assert.rejects(pool.run('vector_insert', [1] as unknown as Uint8Array), poolError('ERR_WORKER_POOL_BAD_OPTIONS'))
      assert.throws(() => pool.setDutyCycle(0), poolError('ERR_WORKER_POOL_BAD_OPTIONS'))
      assert.equal(pool.stats().dutyCycle, 1)
    } finally { await pool.close() }
  })

  it('duty cycle: a worker rests t·(1−d)/d after a task that took t, before the next one', async () => {
    const ends: TaskEndInfo[] = []
    const pool = WorkerThreadsPool.create({ size: 1, kernelsModule: KERNELS, dutyCycle: 0.25, onTaskEnd: e => ends.push(e) })
    try {
      await pool.run('vector_insert', new Uint8Array(1)) // warm up: the worker is ready
      ends.length = 0
      const a = pool.run('semantic_match', new Uint8Array([5])) // ~50 ms
      const b = pool.run('vector_insert', new Uint8Array(1))
      await Promise.all([a, b])
      const [first, second] = ends as [TaskEndInfo, TaskEndInfo]
      // b waited for a's run and then for a's rest of 3·runMs (a lower bound: timers never fire early)
      assert.ok(second.queuedMs >= first.runMs * 4 - 5, `queued ${second.queuedMs} ms, a ran ${first.runMs} ms`)
      assert.ok(pool.stats().restMs >= first.runMs * 3 - 1)
      pool.setDutyCycle(1)
      assert.equal(pool.stats().dutyCycle, 1)
    } finally { await pool.close() }
  })

  it('on demand (idleMs): starts a worker only when a task finds none free, up to size, and ends one left idle', async () => {
    const pool = WorkerThreadsPool.create({ size: 2, kernelsModule: KERNELS, idleMs: 50 })
    try {
      assert.equal(pool.stats().threads, 0, 'no worker before the first task')
      await pool.run('vector_insert', new Uint8Array(1))
      assert.equal(pool.stats().threads, 1, 'one task, one worker')
      await Promise.all(Array.from({ length: 6 }, async () => await pool.run('semantic_match', new Uint8Array([1]))))
      assert.equal(pool.stats().threads, 2, 'never more than size')
      await until(() => pool.stats().threads === 0)
      // After an idle spell the next task starts a worker again; ending idle workers is not a restart.
      await pool.run('vector_insert', new Uint8Array(1))
      const s = pool.stats()
      assert.equal(s.completed, 8)
      assert.equal(s.restarts, 0)
      assert.ok(s.threads >= 1)
    } finally { await pool.close() }
  })

  it('on demand: a worker killed by a deadline is replaced, and a broken kernel table still gives up', async () => {
    const pool = WorkerThreadsPool.create({ size: 1, kernelsModule: KERNELS, idleMs: 50 })
    try {
      await assert.rejects(pool.run('neural_inference', new Uint8Array(1), { deadlineMs: 100 }), poolError('ERR_WORKER_TIMEOUT'))
      assert.equal(await pool.run('vector_insert', new Uint8Array(1)).then(() => pool.stats().restarts), 1)
      await until(() => pool.stats().threads === 0)
    } finally { await pool.close() }
    const broken = WorkerThreadsPool.create({ size: 1, kernelsModule: BROKEN, idleMs: 50 })
    try {
      await assert.rejects(broken.run('vector_insert', new Uint8Array(1)), poolError('ERR_WORKER_CRASHED'))
      await assert.rejects(broken.run('vector_insert', new Uint8Array(1)), poolError('ERR_WORKER_CRASHED'))
    } finally { await broken.close() }
  })

  for (const idleMs of [undefined, 20]) {
    it(`settles every task of a random mix of outcomes, and the counters add up (seeded${idleMs === undefined ? '' : `, workers on demand ending after ${idleMs} ms idle`})`, async () => {
      const pool = WorkerThreadsPool.create({ size: 2, kernelsModule: KERNELS, resourceLimits: { maxOldGenerationSizeMb: 48 }, ...(idleMs === undefined ? {} : { idleMs }) })
      try {
        const mix = fc.sample(fc.constantFrom<TaskType>('vector_insert', 'semantic_match', 'vector_search', 'embedding', 'compression', 'neural_inference'), { seed, numRuns: 40 })
        // On demand, spread the tasks out so that workers end between some of them.
        const results = await Promise.allSettled(mix.map(async (type, i) => {
          if (idleMs !== undefined) await new Promise(resolve => setTimeout(resolve, (i % 4) * idleMs))
          return await pool.run(type, new Uint8Array([1]), { deadlineMs: 300 })
        }))
        const s = pool.stats()
        assert.equal(results.length, mix.length, `seed ${seed}`)
        assert.equal(s.completed + s.failed + s.crashed + s.timedOut + s.aborted, mix.length, `seed ${seed}`)
        assert.equal(s.completed, mix.filter(t => t === 'vector_insert' || t === 'semantic_match').length, `seed ${seed}`)
        assert.equal(s.queued, 0)
        assert.equal(s.busy, 0)
        assert.ok(s.threads <= 2)
      } finally { await pool.close() }
    })
  }

})
