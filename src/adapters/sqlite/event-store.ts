/**
 * The durable `EventStore` for Node: one SQLite file through `node:sqlite` (built into Node >= 22.13
 * and 24 without flags, so no native add-on to compile).
 *
 * Durability choices, and why:
 * - WAL journal (https://sqlite.org/wal.html): a commit appends to the log and readers never block
 *   the writer; after a crash the log is replayed or ignored up to the last complete commit.
 * - `synchronous=FULL` by default: in WAL mode NORMAL fsyncs only at checkpoints, so a commit that
 *   was acknowledged can vanish on power loss or an OS crash (the database stays consistent, but an
 *   event we told a peer we had stored is gone). FULL fsyncs the WAL on every commit
 *   (https://sqlite.org/pragma.html#pragma_synchronous). Either mode survives a process crash
 *   (SIGKILL), because written pages are in the OS cache; only FULL survives losing the OS.
 *   Measured cost: see bench/store-append.ts. `fullfsync` is also set, which is a no-op except on
 *   macOS, where plain fsync() does not flush the drive's cache.
 * - one transaction per `append` batch (BEGIN IMMEDIATE … COMMIT, ROLLBACK on any error): a batch
 *   is all there or not at all after a crash, as the port requires.
 * - the file carries an application id and a schema version (`PRAGMA application_id`,
 *   `PRAGMA user_version`, https://sqlite.org/fileformat.html#database_header) so we never write
 *   to a file we do not understand.
 */

import { DatabaseSync } from 'node:sqlite'
import type { StatementSync } from 'node:sqlite'
import type { AbortOptions, EventStore, StoredEvent } from '../../ports.ts'
import { equalBytes } from '../../core/bytes.ts'
import {
  StoreError, assertEventId, assertStoredEvents, conflictError, throwIfAborted
} from '../../core/storage/index.ts'
import { SQLITE_SCHEMA_VERSION, SQLITE_APPLICATION_ID, inspectFile, createSchema, toStoreError } from './schema.ts'

/** How the store trades durability for speed. Only 'full' survives power loss. @example const level: SqliteSynchronous = 'full' */
export type SqliteSynchronous = 'full' | 'normal'

/** Options of `SqliteEventStore.open`. @example { synchronous: 'full', scanPageSize: 512 } */
export interface SqliteEventStoreOptions {
  /** 'full' (default) fsyncs every commit; 'normal' is for benchmarks and throwaway data. */
  synchronous?: SqliteSynchronous
  /** Rows fetched per query while scanning (default 512); memory held by a scan is O(page). */
  scanPageSize?: number
  /** How long a write waits for another connection's lock before ERR_STORE_IO (default 5000). */
  busyTimeoutMs?: number
}

const SYNCHRONOUS_LEVEL = { normal: 1, full: 2 } as const

/**
 * An `EventStore` in one SQLite file: `events(seq INTEGER PRIMARY KEY, id BLOB UNIQUE, bytes BLOB)`,
 * STRICT, in append order. Every method is synchronous underneath (node:sqlite is), wrapped in
 * the port's promises; one `append` is one transaction.
 *
 * @example
 * const store = SqliteEventStore.open('/var/lib/edge-net/events.db')
 * await store.append([{ id, bytes }])
 * for await (const event of store.scan()) replay(event)
 * await store.close()
 */
export class SqliteEventStore implements EventStore {
  /** The file this store reads and writes (':memory:' for a private in-memory database). */
  readonly path: string
  /** The `synchronous` level in force, read back from SQLite after it was set. */
  readonly synchronous: SqliteSynchronous

  readonly #db: DatabaseSync
  readonly #pageSize: number
  readonly #begin: StatementSync
  readonly #commit: StatementSync
  readonly #rollback: StatementSync
  readonly #insert: StatementSync
  readonly #selectBytes: StatementSync
  readonly #selectHas: StatementSync
  readonly #selectPage: StatementSync
  readonly #countRows: StatementSync
  readonly #dataVersion: StatementSync
  /** Cached row count, valid while `PRAGMA data_version` is unchanged (no other connection wrote). */
  #count: number | undefined
  #countVersion = -1
  #closed = false

  private constructor (path: string, db: DatabaseSync, synchronous: SqliteSynchronous, pageSize: number) {
    this.path = path
    this.synchronous = synchronous
    this.#db = db
    this.#pageSize = pageSize
    this.#begin = db.prepare('BEGIN IMMEDIATE')
    this.#commit = db.prepare('COMMIT')
    this.#rollback = db.prepare('ROLLBACK')
    this.#insert = db.prepare('INSERT INTO events (id, bytes) VALUES (?, ?) ON CONFLICT (id) DO NOTHING')
    this.#selectBytes = db.prepare('SELECT bytes FROM events WHERE id = ?')
    this.#selectHas = db.prepare('SELECT 1 AS found FROM events WHERE id = ?')
    this.#selectPage = db.prepare('SELECT seq, id, bytes FROM events WHERE seq > ? ORDER BY seq LIMIT ?')
    this.#countRows = db.prepare('SELECT count(*) AS n FROM events')
    this.#dataVersion = db.prepare('PRAGMA data_version')
  }

  /**
   * Open (creating if absent) the store at `path`. Throws `ERR_STORE_VERSION` for a file written
   * by a newer schema or by another program, `ERR_STORE_CORRUPT` for a file that is not a
   * database, `ERR_STORE_IO` if it cannot be opened or put in WAL mode.
   *
   * @example
   * const store = SqliteEventStore.open('events.db', { synchronous: 'full' })
   */
  static open (path: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    const synchronous = options.synchronous ?? 'full'
    const pageSize = options.scanPageSize ?? 512
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000
    if (typeof path !== 'string' || path === '') {
      throw new StoreError('ERR_BAD_STORE_OPTIONS', 'path must be a non-empty string')
    }
    if (!Object.hasOwn(SYNCHRONOUS_LEVEL, synchronous)) {
      throw new StoreError('ERR_BAD_STORE_OPTIONS', `synchronous must be 'full' or 'normal', got ${String(synchronous)}`)
    }
    if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
      throw new StoreError('ERR_BAD_STORE_OPTIONS', `scanPageSize must be a positive integer, got ${pageSize}`)
    }
    if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new StoreError('ERR_BAD_STORE_OPTIONS', `busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`)
    }

    let db: DatabaseSync
    try {
      // defensive: SQL cannot corrupt the file on purpose (writable_schema etc. are refused).
      db = new DatabaseSync(path, { timeout: busyTimeoutMs, defensive: true })
    } catch (err) {
      throw toStoreError(err, `cannot open ${path}`)
    }
    try {
      // Refuse a foreign or newer file BEFORE changing anything in it (journal_mode is persistent).
      inspectFile(db, path)
      const memory = path === ':memory:'
      const mode = db.prepare('PRAGMA journal_mode = WAL').get()?.journal_mode
      if (mode !== 'wal' && !(memory && mode === 'memory')) {
        throw new StoreError('ERR_STORE_IO', `cannot put ${path} in WAL mode (journal_mode is ${String(mode)})`)
      }
      db.exec(`PRAGMA synchronous = ${synchronous.toUpperCase()}`)
      const level = db.prepare('PRAGMA synchronous').get()?.synchronous
      if (level !== SYNCHRONOUS_LEVEL[synchronous]) {
        throw new StoreError('ERR_STORE_IO', `SQLite refused synchronous=${synchronous} (got ${String(level)})`)
      }
      if (synchronous === 'full') db.exec('PRAGMA fullfsync = ON; PRAGMA checkpoint_fullfsync = ON')
      // Keep the WAL file from staying at its high-water mark after a checkpoint.
      db.exec('PRAGMA journal_size_limit = 67108864')
      createSchema(db, path)
      return new SqliteEventStore(path, db, synchronous, pageSize)
    } catch (err) {
      try { db.close() } catch { /* already failing; report the first error */ }
      throw toStoreError(err, `cannot open ${path}`)
    }
  }

  /**
   * Append a batch in one transaction: after the promise resolves the batch is on disk (fsynced
   * with 'full'); a bad entry, a conflict, an abort or an I/O error leaves the file as it was.
   *
   * @example
   * await store.append(events, { signal: AbortSignal.timeout(1000) })
   */
  async append (events: readonly StoredEvent[], options?: AbortOptions): Promise<void> {
    this.#assertOpen()
    throwIfAborted(options?.signal)
    assertStoredEvents(events)
    if (events.length === 0) return
    // Everything below is synchronous, so no other call on this connection can interleave with
    // the transaction. The signal is therefore honoured up to BEGIN and not inside the batch.
    let inserted = 0
    try {
      this.#begin.run()
      for (let i = 0; i < events.length; i++) {
        const event = events[i] as StoredEvent
        if (Number(this.#insert.run(event.id, event.bytes).changes) === 1) {
          inserted++
          continue
        }
        // Already stored (earlier, or earlier in this batch): same bytes is a no-op, different
        // bytes refuses the batch (see src/core/storage/validate.ts for why).
        const row = this.#selectBytes.get(event.id)
        if (!(row?.bytes instanceof Uint8Array) || !equalBytes(row.bytes, event.bytes)) {
          throw conflictError(i, event.id)
        }
      }
      this.#commit.run()
    } catch (err) {
      // A failed COMMIT may already have rolled back (e.g. SQLITE_FULL); then there is nothing to undo.
      if (this.#db.isTransaction) {
        try { this.#rollback.run() } catch { /* the connection is broken; report the first error */ }
      }
      throw toStoreError(err, 'append')
    }
    if (this.#count !== undefined) this.#count += inserted
  }

  /** @example if (!(await store.has(id))) await fetchFromPeer(id) */
  async has (id: Uint8Array): Promise<boolean> {
    this.#assertOpen()
    assertEventId(id)
    try {
      return this.#selectHas.get(id) !== undefined
    } catch (err) {
      throw toStoreError(err, 'has')
    }
  }

  /** @example const bytes = await store.get(id) */
  async get (id: Uint8Array): Promise<Uint8Array | undefined> {
    this.#assertOpen()
    assertEventId(id)
    let row: Record<string, unknown> | undefined
    try {
      row = this.#selectBytes.get(id)
    } catch (err) {
      throw toStoreError(err, 'get')
    }
    if (row === undefined) return undefined
    if (!(row.bytes instanceof Uint8Array)) throw new StoreError('ERR_STORE_CORRUPT', 'a stored event is not a blob')
    return row.bytes // node:sqlite returns a fresh Uint8Array per read: the caller may keep it
  }

  /**
   * Every event in append order, fetched `scanPageSize` rows at a time by keyset pagination
   * (`seq > last`), so a scan holds one page in memory and never a read transaction across
   * yields: appends go on while a scan runs, and may or may not be seen by it.
   *
   * @example
   * for await (const { id, bytes } of store.scan({ signal })) replay(id, bytes)
   */
  async * scan (options?: AbortOptions): AsyncGenerator<StoredEvent> {
    let last = 0
    for (;;) {
      this.#assertOpen()
      throwIfAborted(options?.signal)
      let rows: Array<Record<string, unknown>>
      try {
        rows = this.#selectPage.all(last, this.#pageSize)
      } catch (err) {
        throw toStoreError(err, 'scan')
      }
      for (const row of rows) {
        const { seq, id, bytes } = row
        if (typeof seq !== 'number' || !(id instanceof Uint8Array) || !(bytes instanceof Uint8Array)) {
          throw new StoreError('ERR_STORE_CORRUPT', `row ${String(seq)} of the events table is malformed`)
        }
        last = seq
        yield { id, bytes }
        // The consumer ran between yields: it may have closed the store or fired the signal.
        this.#assertOpen()
        throwIfAborted(options?.signal)
      }
      if (rows.length < this.#pageSize) return
    }
  }

  /**
   * How many events are stored. O(1) while this connection is the only writer: the count is
   * cached and re-read only when `PRAGMA data_version` says another connection committed.
   *
   * @example
   * console.log(await store.count())
   */
  async count (): Promise<number> {
    this.#assertOpen()
    try {
      const version = Number(this.#dataVersion.get()?.data_version)
      if (this.#count === undefined || version !== this.#countVersion) {
        this.#count = Number(this.#countRows.get()?.n)
        this.#countVersion = version
      }
      return this.#count
    } catch (err) {
      throw toStoreError(err, 'count')
    }
  }

  /**
   * Close the file (SQLite checkpoints the WAL). Idempotent; later calls fail with ERR_STORE_CLOSED.
   *
   * @example
   * await store.close()
   */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      this.#db.close()
    } catch (err) {
      throw toStoreError(err, 'close')
    }
  }

  #assertOpen (): void {
    if (this.#closed) throw new StoreError('ERR_STORE_CLOSED', `the event store ${this.path} is closed`)
  }
}

export { SQLITE_SCHEMA_VERSION, SQLITE_APPLICATION_ID }
