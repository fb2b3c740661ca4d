/**
 * The in-memory `EventStore`: for tests and simulations only (nothing survives the process). It
 * follows the same rules as the durable stores (src/core/storage/validate.ts) and passes the same
 * compliance suite (test/compliance/event-store.ts), so a simulation that runs on it behaves like
 * a node on SQLite or IndexedDB, minus the disk.
 */

import type { AbortOptions, EventStore, StoredEvent } from '../../ports.ts'
import { toKey } from '../../core/bytes.ts'
import {
  StoreError, assertEventId, assertStoredEvents, planAppend, throwIfAborted
} from '../../core/storage/index.ts'

/**
 * An `EventStore` held in memory, for tests and simulations. Bytes are copied on the way in and
 * on the way out, so a caller that mutates its arrays (or the ones it got back) cannot change
 * what is stored.
 *
 * @example
 * const store = new MemoryEventStore()
 * await store.append([{ id, bytes }])
 * for await (const event of store.scan()) console.log(event.id)
 */
export class MemoryEventStore implements EventStore {
  /** Events in append order. Never shrinks, so an index is a stable scan cursor. */
  readonly #events: StoredEvent[] = []
  /** id (as a one-char-per-byte string, see toKey) → stored bytes. */
  readonly #byId = new Map<string, Uint8Array>()
  #closed = false

  /**
   * Append a batch: all of it or (on any bad entry or conflict) none of it.
   *
   * @example
   * await store.append([{ id, bytes }], { signal })
   */
  async append (events: readonly StoredEvent[], options?: AbortOptions): Promise<void> {
    this.#assertOpen()
    throwIfAborted(options?.signal)
    assertStoredEvents(events)
    // planAppend throws before anything is written, so a refused batch changes nothing.
    const fresh = planAppend(events, (id) => this.#byId.get(toKey(id)))
    for (const event of fresh) {
      // `new Uint8Array(view)` copies; `Buffer#slice` would not, so avoid `.slice()` here.
      const stored: StoredEvent = { id: new Uint8Array(event.id), bytes: new Uint8Array(event.bytes) }
      this.#byId.set(toKey(stored.id), stored.bytes)
      this.#events.push(stored)
    }
  }

  /** @example await store.has(id) */
  async has (id: Uint8Array): Promise<boolean> {
    this.#assertOpen()
    assertEventId(id)
    return this.#byId.has(toKey(id))
  }

  /** @example const bytes = await store.get(id) */
  async get (id: Uint8Array): Promise<Uint8Array | undefined> {
    this.#assertOpen()
    assertEventId(id)
    const bytes = this.#byId.get(toKey(id))
    return bytes === undefined ? undefined : new Uint8Array(bytes)
  }

  /**
   * Every event in append order. Events appended while a scan runs may or may not be yielded
   * (here they are); events stored when it began always are.
   *
   * @example
   * for await (const { id, bytes } of store.scan({ signal })) replay(id, bytes)
   */
  async * scan (options?: AbortOptions): AsyncGenerator<StoredEvent> {
    for (let i = 0; ; i++) {
      this.#assertOpen()
      throwIfAborted(options?.signal)
      const event = this.#events[i]
      if (event === undefined) return
      yield { id: new Uint8Array(event.id), bytes: new Uint8Array(event.bytes) }
    }
  }

  /** @example await store.count() */
  async count (): Promise<number> {
    this.#assertOpen()
    return this.#events.length
  }

  /** Release the store. Idempotent; every later call but `close` fails with ERR_STORE_CLOSED. @example await store.close() */
  async close (): Promise<void> {
    this.#closed = true
  }

  #assertOpen (): void {
    if (this.#closed) throw new StoreError('ERR_STORE_CLOSED', 'the event store is closed')
  }
}
