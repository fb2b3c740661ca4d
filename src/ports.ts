/**
 * The ports: the small interfaces the core and the runtime need from the world. Adapters in
 * src/adapters/ implement them; each interface has one compliance suite in test/compliance/ that
 * every implementation runs (as automerge-repo and js-libp2p do).
 */

export interface AbortOptions { signal?: AbortSignal }

/** One stored ledger event: its id (SHA-256 of its signed bytes, 32 bytes) and its encoding. */
export interface StoredEvent {
  id: Uint8Array
  bytes: Uint8Array
}

/**
 * Durable storage of ledger events. Events are kept in the order they were appended, so a replay
 * in that order never has to wait for a missing dependency.
 */
export interface EventStore {
  /**
   * Append a batch atomically: after the promise resolves every event of the batch is durable;
   * after a crash either all of them are there or none. Ids already present are skipped.
   */
  append (events: readonly StoredEvent[], options?: AbortOptions): Promise<void>
  /** Whether an event with this id is stored. */
  has (id: Uint8Array): Promise<boolean>
  /** The encoding stored under this id, or undefined. */
  get (id: Uint8Array): Promise<Uint8Array | undefined>
  /** Every stored event, in append order. */
  scan (options?: AbortOptions): AsyncIterable<StoredEvent>
  /** How many events are stored. */
  count (): Promise<number>
  /** Release the store; further calls fail with ERR_STORE_CLOSED. */
  close (): Promise<void>
}

/** Where an identity's secret key material lives between runs. */
export interface KeyStore {
  /** The stored identity bytes, or null if none has been saved yet. */
  load (): Promise<Uint8Array | null>
  /** Save identity bytes once; refuses to overwrite an existing identity. */
  save (bytes: Uint8Array): Promise<void>
}

/** Wall-clock time in milliseconds since the Unix epoch. The core never reads a clock itself. */
export interface Clock { now (): number }

/** A source of random bytes (crypto.getRandomValues in production, a seeded PRNG in tests). */
export interface Random { bytes (length: number): Uint8Array }

/** A message handler: `from` is the transport's idea of the sender; protocols still check signatures. */
export type MessageHandler = (from: Uint8Array, topic: string, data: Uint8Array) => void

/**
 * How a node reaches others: gossip to everyone on a topic, or a direct message to one peer. Both
 * are fire-and-forget (delivery is not promised; protocols retry or time out), and peers are named
 * by their Ed25519 public keys. Adapters: the in-process simulated network
 * (src/runtime/memory-network.ts) and libp2p.
 */
export interface Transport {
  /** This node's public key. */
  readonly self: Uint8Array
  /**
   * True when the `from` of a direct message is proven by the transport itself: the in-process
   * simulation, or libp2p over Noise where the peer id is the node's Ed25519 key. Protocols may
   * then skip per-message signatures on direct messages; anything that must convince a third party
   * (a result digest, a certificate endorsement, an attestation) stays signed inside the body.
   */
  readonly authenticated: boolean
  /** Gossip `data` to every subscriber of `topic` (not back to this node). */
  publish (topic: string, data: Uint8Array): void
  /** Send `data` to one peer. */
  send (to: Uint8Array, topic: string, data: Uint8Array): void
  /** Receive messages; one handler per transport. */
  onMessage (handler: MessageHandler): void
  /**
   * Optional: be told when the link to a peer is lost (its connection closed), so protocols can
   * stop waiting for it at once instead of at a timeout. One handler per transport.
   */
  onPeerDown? (handler: (peer: Uint8Array) => void): void
  /** Leave the network. */
  close (): Promise<void>
}

// ---------------------------------------------------------------------------------------------
// WorkerPool: where kernels run (issue 3 §4). Adapters: src/adapters/workers/ (worker_threads).

import type { TaskType } from './core/economy/prices.ts'

/** Options for one pooled run. @example await pool.run('custom_wasm', payload, { deadlineMs: 2000, signal }) */
export interface WorkerPoolRunOptions {
  /** Abort the task: a queued task is dropped, a running one's worker is terminated and replaced. */
  signal?: AbortSignal
  /**
   * Wall-time limit in ms, counted from when a worker starts the task (time spent queued does not
   * count). Past it the worker is terminated and replaced, and the task fails with `ERR_WASM_TIMEOUT`
   * (custom_wasm) or `ERR_WORKER_TIMEOUT` (other types). Default: the pool's.
   */
  deadlineMs?: number
}

/** A snapshot of a pool's counters. @example pool.stats().crashed */
export interface WorkerPoolStats {
  /** Workers the pool keeps. */
  size: number
  /** Workers running a task now. */
  busy: number
  /** Worker threads alive now (starting or ready): below `size` while an on-demand pool has not needed them all, or has ended idle ones. */
  threads: number
  /** Tasks waiting for a worker. */
  queued: number
  /** Tasks that returned an output. */
  completed: number
  /** Tasks whose kernel threw (bad input, trap, out of fuel, ...): the worker survives. */
  failed: number
  /** Tasks lost to a worker that died (exit, uncaught error, out of memory): the worker is replaced. */
  crashed: number
  /** Tasks past their deadline: the worker is terminated and replaced. */
  timedOut: number
  /** Tasks aborted by their signal. */
  aborted: number
  /** Workers started to replace dead or terminated ones. */
  restarts: number
  /** The current duty cycle, 0.1..1. */
  dutyCycle: number
  /** Total rest the throttle has imposed, in ms. */
  restMs: number
}

/**
 * Runs kernels off the caller's thread, with a bounded number of workers, a CPU share, and wall-time
 * limits. A task always settles: with the kernel's output, the kernel's own `KernelError`, or a
 * pool error (a crashed worker's task fails with `ERR_WORKER_CRASHED`, never hangs).
 *
 * @example
 * const out = await pool.run('custom_wasm', payload, { deadlineMs: 1000 })
 * pool.setDutyCycle(0.5)   // use about half of each worker's CPU time
 * await pool.close()
 */
export interface WorkerPool {
  /** Number of workers. */
  readonly size: number
  /** Run one task. The payload's buffer may be transferred to the worker (do not reuse it). */
  run (type: TaskType, payload: Uint8Array, options?: WorkerPoolRunOptions): Promise<Uint8Array>
  /**
   * The share of each worker's time spent computing, 0.1..1: after a task that took t ms a worker
   * rests t·(1−d)/d ms before its next one. It bounds the average, not a single task's burst.
   */
  setDutyCycle (fraction: number): void
  /** Counters since the pool started. */
  stats (): WorkerPoolStats
  /** Stop every worker; queued and running tasks fail with `ERR_WORKER_POOL_CLOSED`. */
  close (): Promise<void>
}
