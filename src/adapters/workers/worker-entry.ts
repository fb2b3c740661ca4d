/**
 * The code each pooled worker thread runs: load the kernel table, say `ready`, then run one task
 * per message and answer with its output or its error. A task runs to completion or until the pool
 * terminates the thread (deadline, abort, close); the thread holds no state between tasks but the
 * loaded kernels, so a terminated worker loses nothing but its current task, which the pool fails.
 *
 * `workerData.kernelsModule` (a file URL) replaces the build's kernel table, for tests and for
 * operators who run a subset: the module must export `KERNELS` as registry.ts does.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { TaskType } from '../../core/economy/prices.ts'
import { kernelFor } from '../../core/kernels/registry.ts'
import type { Kernel } from '../../core/kernels/types.ts'
import { transferable } from './protocol.ts'
import type { TaskMessage, WorkerInit, WorkerReply } from './protocol.ts'

async function main (): Promise<void> {
  const port = parentPort
  if (port === null) throw new Error('worker-entry.ts runs only as a worker thread')
  const init = (workerData ?? {}) as WorkerInit
  const kernels = init.kernelsModule === undefined
    ? undefined
    : (await import(init.kernelsModule) as { KERNELS: Partial<Record<TaskType, Kernel>> }).KERNELS

  port.on('message', (msg: TaskMessage) => {
    void (async () => {
      try {
        const kernel = kernelFor(msg.type, kernels)
        const out = await kernel.run(msg.payload)
        const [output, transfer] = transferable(out)
        port.postMessage({ kind: 'done', id: msg.id, output } satisfies WorkerReply, transfer)
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err))
        const raw = (e as Error & { code?: unknown }).code
        const code = typeof raw === 'string' ? raw : undefined
        port.postMessage({ kind: 'failed', id: msg.id, error: { name: e.name, code, message: e.message } } satisfies WorkerReply)
      }
    })()
  })
  port.postMessage({ kind: 'ready' } satisfies WorkerReply)
}

if (parentPort !== null) await main()
