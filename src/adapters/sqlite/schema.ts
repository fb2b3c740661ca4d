/**
 * The on-disk layout of the SQLite event store, how a file is recognised as ours, and how
 * SQLite's errors become `StoreError`s. Kept apart from event-store.ts so a schema change (a new
 * version and its migration step) touches this file only.
 */

import type { DatabaseSync } from 'node:sqlite'
import { StoreError } from '../../core/storage/index.ts'

/**
 * The schema version this code writes and reads, kept in `PRAGMA user_version`. A file with a
 * higher version was written by a newer edge-net and is refused with ERR_STORE_VERSION rather than
 * misread. To change the schema: bump this and add the step from the previous version in
 * `createSchema`.
 *
 * @example
 * db.prepare('PRAGMA user_version').get() // { user_version: SQLITE_SCHEMA_VERSION }
 */
export const SQLITE_SCHEMA_VERSION = 1

/**
 * 'EDGN' in ASCII, kept in `PRAGMA application_id` (the header field SQLite reserves for telling
 * file formats apart, https://sqlite.org/pragma.html#pragma_application_id), so that opening some
 * other program's database by mistake fails instead of adding a table to it.
 *
 * @example
 * SQLITE_APPLICATION_ID === 0x4544474e
 */
export const SQLITE_APPLICATION_ID = 0x4544474e

/*
 * STRICT makes SQLite refuse a non-blob in a blob column (https://sqlite.org/stricttables.html);
 * the CHECKs repeat src/core/storage/validate.ts so even a hand-edited file keeps the invariants.
 * `seq INTEGER PRIMARY KEY` is the rowid: rows are never deleted, so a new row always gets
 * max(seq) + 1 and seq order is append order without AUTOINCREMENT's extra table.
 */
const SCHEMA_V1 = `
CREATE TABLE events (
  seq   INTEGER PRIMARY KEY,
  id    BLOB NOT NULL UNIQUE CHECK (length(id) = 32),
  bytes BLOB NOT NULL CHECK (length(bytes) > 0)
) STRICT;
PRAGMA application_id = ${SQLITE_APPLICATION_ID};
PRAGMA user_version = ${SQLITE_SCHEMA_VERSION};
`

interface FileIdentity { applicationId: number, version: number, objects: number }

function readIdentity (db: DatabaseSync): FileIdentity {
  return {
    applicationId: Number(db.prepare('PRAGMA application_id').get()?.application_id),
    version: Number(db.prepare('PRAGMA user_version').get()?.user_version),
    objects: Number(db.prepare('SELECT count(*) AS n FROM sqlite_schema').get()?.n)
  }
}

/** 'fresh' for an empty database, 'ours' for an edge-net store we can read; throws otherwise. */
function classify (identity: FileIdentity, path: string): 'fresh' | 'ours' {
  const { applicationId, version, objects } = identity
  if (applicationId === SQLITE_APPLICATION_ID) {
    if (version >= 1 && version <= SQLITE_SCHEMA_VERSION) return 'ours'
    throw new StoreError('ERR_STORE_VERSION', version > SQLITE_SCHEMA_VERSION
      ? `${path} has event-store schema version ${version}, newer than the ${SQLITE_SCHEMA_VERSION} this edge-net reads: upgrade edge-net`
      : `${path} has event-store schema version ${version}, which no edge-net writes`)
  }
  if (applicationId === 0 && version === 0 && objects === 0) return 'fresh'
  throw new StoreError('ERR_STORE_VERSION',
    `${path} is not an edge-net event store (application_id 0x${(applicationId >>> 0).toString(16)}, user_version ${version}, ${objects} schema objects)`)
}

/**
 * Read-only check that `db` is empty or an edge-net store of a version we read. Runs before any
 * pragma that writes the file. Throws ERR_STORE_VERSION, or ERR_STORE_CORRUPT for a non-database.
 *
 * @example
 * inspectFile(db, 'events.db')
 */
export function inspectFile (db: DatabaseSync, path: string): void {
  classify(readIdentity(db), path)
}

/**
 * Create the schema in an empty database, or check it in an existing store, inside one write
 * transaction so that two processes opening a fresh file at once cannot both create it.
 *
 * @example
 * createSchema(db, 'events.db')
 */
export function createSchema (db: DatabaseSync, path: string): void {
  db.exec('BEGIN IMMEDIATE')
  try {
    if (classify(readIdentity(db), path) === 'fresh') {
      db.exec(SCHEMA_V1)
    } else {
      const table = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'events'").get()
      if (table === undefined) throw new StoreError('ERR_STORE_CORRUPT', `${path} is marked as an event store but has no events table`)
    }
    db.exec('COMMIT')
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK')
    throw err
  }
}

// Primary result codes (https://sqlite.org/rescode.html); node:sqlite reports the extended code
// in `errcode`, whose low byte is the primary one.
const SQLITE_CORRUPT = 11
const SQLITE_NOTADB = 26

/**
 * Wrap whatever SQLite threw as a `StoreError` (a `StoreError` passes through unchanged):
 * corruption and not-a-database become ERR_STORE_CORRUPT, everything else ERR_STORE_IO, with the
 * original error as `cause`.
 *
 * @example
 * try { stmt.run() } catch (err) { throw toStoreError(err, 'append') }
 */
export function toStoreError (err: unknown, action: string): StoreError {
  if (err instanceof StoreError) return err
  const errcode = (err as { errcode?: unknown } | null)?.errcode
  const message = err instanceof Error ? err.message : String(err)
  if (typeof errcode === 'number') {
    const primary = errcode & 0xff
    if (primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB) {
      return new StoreError('ERR_STORE_CORRUPT', `${action}: ${message}`, { cause: err })
    }
  }
  return new StoreError('ERR_STORE_IO', `${action}: ${message}`, { cause: err })
}
