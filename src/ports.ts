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
