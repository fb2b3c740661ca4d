/**
 * What the submitter and worker halves of an EdgeNode share: identity, ledger, transport, clock,
 * kernels and the task runner, plus the node's typed events. Internal to the runtime.
 */
import { PairBox, PeerKeys } from '../core/identity/index.ts'
import type { Identity } from '../core/identity/index.ts'
import type { Ledger } from '../core/ledger/index.ts'
import type { Kernel } from '../core/kernels/index.ts'
import { kernelFor } from '../core/kernels/index.ts'
import type { TaskType } from '../core/economy/index.ts'
import { frameTaskMessage, signTaskMessage } from '../core/tasks/index.ts'
import type { TaskMessageBodies, TaskMessageKind } from '../core/tasks/index.ts'
import type { Clock, Transport } from '../ports.ts'

/** The topic task announcements are gossiped on; direct messages use `TASK_DIRECT_TOPIC`. */
export const TASK_TOPIC = 'edge-net/tasks/1'
export const TASK_DIRECT_TOPIC = 'edge-net/task-direct/1'

/**
 * Runs kernels: the worker pool (worker_threads / Web Workers) in production, or in-process.
 * @example await runner.run('encryption', payload, { deadlineMs: 5000 })
 */
export interface TaskRunner {
  run (type: TaskType, payload: Uint8Array, options?: { signal?: AbortSignal, deadlineMs?: number }): Promise<Uint8Array>
}

/** The node's typed events and what each carries. */
export interface EdgeNodeEvents {
  'task:submitted': { task: Uint8Array, type: TaskType }
  'task:claimed': { task: Uint8Array, type: TaskType, submitter: Uint8Array }
  'task:assigned': { task: Uint8Array, type: TaskType }
  'task:completed': { task: Uint8Array, type: TaskType }
  'task:settled': { task: Uint8Array, cost: bigint, workers: Uint8Array[], refereed: boolean, spotCheck: boolean }
  'task:failed': { task: Uint8Array, code: string, reason: string }
  'credit:earned': { task: Uint8Array, amount: bigint, kind: 'payment' | 'reward' | 'slash-share' }
  'worker:slashed': { offender: Uint8Array, task: Uint8Array, amount: bigint }
  'worker:missed': { worker: Uint8Array, task: Uint8Array }
  'error': { error: unknown }
}

export type EdgeNodeEventName = keyof EdgeNodeEvents

/** @internal */
export class RuntimeContext {
  readonly networkId: string
  readonly identity: Identity
  readonly ledger: Ledger
  readonly transport: Transport
  readonly clock: Clock
  readonly kernels: Partial<Record<TaskType, Kernel>>
  readonly runner: TaskRunner
  readonly random: () => number
  readonly randomBytes: (n: number) => Uint8Array
  readonly emit: <K extends EdgeNodeEventName>(name: K, detail: EdgeNodeEvents[K]) => void
  /** Seals payloads and results to the peers of a task (per-pair keys, cached). */
  readonly box: PairBox
  /** Workers' agreement keys, each binding verified once. */
  readonly peerKeys: PeerKeys

  constructor (init: Omit<RuntimeContext, 'kernel' | 'send' | 'networkId' | 'box' | 'peerKeys'>) {
    this.identity = init.identity
    this.ledger = init.ledger
    this.networkId = init.ledger.config.networkId
    this.transport = init.transport
    this.clock = init.clock
    this.kernels = init.kernels
    this.runner = init.runner
    this.random = init.random
    this.randomBytes = init.randomBytes
    this.emit = init.emit
    // Key ids and IVs always come from the platform's CSPRNG, never from `randomBytes` (which a
    // simulation seeds): a seeded source replayed after a restart would repeat (key id, IV) pairs
    // under the same static keys, and a repeated GCM nonce gives the key away (SP 800-38D §8).
    this.box = new PairBox(init.identity, { networkId: this.networkId })
    this.peerKeys = new PeerKeys({ networkId: this.networkId })
  }

  kernel (type: string): Kernel { return kernelFor(type, this.kernels) }

  /** Send a task message: framed on an authenticated transport, signed on any other. */
  async send<K extends TaskMessageKind> (to: Uint8Array, kind: K, task: Uint8Array, body: TaskMessageBodies[K]): Promise<void> {
    const bytes = this.transport.authenticated
      ? frameTaskMessage(kind, task, this.identity.publicKey, body)
      : await signTaskMessage(this.identity, this.networkId, kind, task, body)
    this.transport.send(to, TASK_DIRECT_TOPIC, bytes)
  }
}
