/**
 * SqliteEventStore: the shared EventStore compliance suite on real files (with a tiny scan page
 * too, so page boundaries are crossed everywhere), then what only a file can get wrong: pragmas,
 * schema version and foreign files, corruption, locks held by another connection, and a second
 * connection's writes.
 */

import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import {
  SqliteEventStore, SQLITE_APPLICATION_ID, SQLITE_SCHEMA_VERSION
} from '../../../src/adapters/sqlite/event-store.ts'
import type { SqliteEventStoreOptions } from '../../../src/adapters/sqlite/event-store.ts'
import { StoreError } from '../../../src/core/storage/index.ts'
import type { StoreErrorCode } from '../../../src/core/storage/index.ts'
import { eventStoreCompliance, makeEvent } from '../../compliance/event-store.ts'

function sqliteFixture (options: SqliteEventStoreOptions) {
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-net-store-'))
    const path = join(dir, 'events.db')
    return {
      store: SqliteEventStore.open(path, options),
      reopen: async () => SqliteEventStore.open(path, options),
      cleanup: () => rm(dir, { recursive: true, force: true })
    }
  }
}

eventStoreCompliance('SqliteEventStore', sqliteFixture({}))
eventStoreCompliance('SqliteEventStore, scanPageSize 3', sqliteFixture({ scanPageSize: 3 }), { numRuns: 10 })

function throwsCode (fn: () => unknown, code: StoreErrorCode): void {
  assert.throws(fn, (err: unknown) => err instanceof StoreError && err.code === code)
}

function pragma (path: string, name: string): unknown {
  const db = new DatabaseSync(path, { readOnly: true })
  try { return db.prepare(`PRAGMA ${name}`).get()?.[name] } finally { db.close() }
}

describe('SqliteEventStore', () => {
  let dir = ''
  let n = 0
  const fresh = (): string => join(dir, `db-${n++}.db`)
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'edge-net-sqlite-')) })
  after(() => rm(dir, { recursive: true, force: true }))

  describe('open()', () => {
    it('writes a WAL file marked with the application id and schema version', async () => {
      const path = fresh()
      const store = SqliteEventStore.open(path)
      assert.equal(store.synchronous, 'full')
      await store.append([makeEvent('a')])
      await store.close()
      assert.equal(pragma(path, 'journal_mode'), 'wal')
      assert.equal(pragma(path, 'application_id'), SQLITE_APPLICATION_ID)
      assert.equal(pragma(path, 'user_version'), SQLITE_SCHEMA_VERSION)
    })

    it('applies synchronous=NORMAL only when asked', async () => {
      const store = SqliteEventStore.open(fresh(), { synchronous: 'normal' })
      assert.equal(store.synchronous, 'normal')
      await store.close()
    })

    it('opens a private in-memory database for ":memory:"', async () => {
      const store = SqliteEventStore.open(':memory:')
      await store.append([makeEvent('m')])
      assert.equal(await store.count(), 1)
      await store.close()
    })

    it('refuses a file with a newer schema version and leaves it untouched', async () => {
      const path = fresh()
      await SqliteEventStore.open(path).close()
      const db = new DatabaseSync(path)
      db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 1}`)
      db.close()
      throwsCode(() => SqliteEventStore.open(path), 'ERR_STORE_VERSION')
      assert.equal(pragma(path, 'user_version'), SQLITE_SCHEMA_VERSION + 1)
    })

    it('refuses a file marked as ours with a version no edge-net writes', () => {
      const path = fresh()
      const db = new DatabaseSync(path)
      db.exec(`PRAGMA application_id = ${SQLITE_APPLICATION_ID}`)
      db.close()
      throwsCode(() => SqliteEventStore.open(path), 'ERR_STORE_VERSION')
    })

    it('refuses another program\'s database without switching it to WAL', () => {
      const path = fresh()
      const db = new DatabaseSync(path)
      db.exec('CREATE TABLE notes (text TEXT)')
      db.close()
      throwsCode(() => SqliteEventStore.open(path), 'ERR_STORE_VERSION')
      assert.equal(pragma(path, 'journal_mode'), 'delete')
      const other = new DatabaseSync(path)
      assert.equal(other.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'events'").get()?.n, 0)
      other.close()
    })

    it('refuses a file marked as ours that lacks the events table (ERR_STORE_CORRUPT)', () => {
      const path = fresh()
      const db = new DatabaseSync(path)
      db.exec(`CREATE TABLE other (x); PRAGMA application_id = ${SQLITE_APPLICATION_ID}; PRAGMA user_version = ${SQLITE_SCHEMA_VERSION}`)
      db.close()
      throwsCode(() => SqliteEventStore.open(path), 'ERR_STORE_CORRUPT')
    })

    it('refuses a file that is not a database (ERR_STORE_CORRUPT) and leaves it as it was', async () => {
      const path = fresh()
      const junk = 'not a database '.repeat(400)
      await writeFile(path, junk)
      throwsCode(() => SqliteEventStore.open(path), 'ERR_STORE_CORRUPT')
      assert.equal(await readFile(path, 'utf8'), junk)
    })

    it('reports a path it cannot create as ERR_STORE_IO', () => {
      throwsCode(() => SqliteEventStore.open(join(dir, 'no', 'such', 'dir', 'x.db')), 'ERR_STORE_IO')
    })

    it('refuses bad options with ERR_BAD_STORE_OPTIONS', () => {
      throwsCode(() => SqliteEventStore.open(''), 'ERR_BAD_STORE_OPTIONS')
      throwsCode(() => SqliteEventStore.open(fresh(), { scanPageSize: 0 }), 'ERR_BAD_STORE_OPTIONS')
      throwsCode(() => SqliteEventStore.open(fresh(), { scanPageSize: 1.5 }), 'ERR_BAD_STORE_OPTIONS')
      throwsCode(() => SqliteEventStore.open(fresh(), { busyTimeoutMs: -1 }), 'ERR_BAD_STORE_OPTIONS')
      throwsCode(() => SqliteEventStore.open(fresh(), { synchronous: 'off' as 'full' }), 'ERR_BAD_STORE_OPTIONS')
    })
  })

  describe('two connections on one file', () => {
    it('counts what the other connection appended', async () => {
      const path = fresh()
      const a = SqliteEventStore.open(path)
      const b = SqliteEventStore.open(path)
      try {
        await a.append([makeEvent('1'), makeEvent('2')])
        assert.equal(await a.count(), 2)
        assert.equal(await b.count(), 2)
        await b.append([makeEvent('3')])
        assert.equal(await b.count(), 3)
        assert.equal(await a.count(), 3)
        await a.append([makeEvent('3'), makeEvent('4')])
        assert.equal(await a.count(), 4)
        assert.equal(await b.count(), 4)
        assert.equal(await b.has(makeEvent('4').id), true)
      } finally {
        await a.close()
        await b.close()
      }
    })

    it('fails an append with ERR_STORE_IO while another connection holds the write lock, changing nothing', async () => {
      const path = fresh()
      const store = SqliteEventStore.open(path, { busyTimeoutMs: 20 })
      const other = new DatabaseSync(path)
      try {
        other.exec('BEGIN IMMEDIATE')
        await assert.rejects(store.append([makeEvent('locked')]),
          (err: unknown) => err instanceof StoreError && err.code === 'ERR_STORE_IO' && err.cause !== undefined)
        other.exec('ROLLBACK')
        assert.equal(await store.count(), 0)
        await store.append([makeEvent('unlocked')])
        assert.equal(await store.count(), 1)
      } finally {
        other.close()
        await store.close()
      }
    })
  })

  describe('scan()', () => {
    for (const pageSize of [1, 7, 100, 101]) {
      it(`crosses page boundaries in order with scanPageSize ${pageSize}`, async () => {
        const store = SqliteEventStore.open(fresh(), { scanPageSize: pageSize })
        try {
          const events = Array.from({ length: 100 }, (_, i) => makeEvent(`p${i}`))
          await store.append(events)
          const ids: string[] = []
          for await (const e of store.scan()) ids.push(Buffer.from(e.id).toString('hex'))
          assert.deepEqual(ids, events.map((e) => Buffer.from(e.id).toString('hex')))
        } finally {
          await store.close()
        }
      })
    }
  })
})
