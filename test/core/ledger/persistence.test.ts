import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ledger } from '../../../src/core/ledger/ledger.ts'
import { LedgerError } from '../../../src/core/ledger/errors.ts'
import { SqliteEventStore } from '../../../src/adapters/sqlite/event-store.ts'
import { MemoryEventStore } from '../../../src/adapters/memory/event-store.ts'
import { credits } from '../../../src/core/economy/index.ts'
import { identities, prng, testConfig } from '../../helpers/fixtures.ts'
import { randomHistory } from '../../helpers/history.ts'
import type { EventStore, StoredEvent } from '../../../src/ports.ts'
import type { Identity } from '../../../src/core/identity/index.ts'


describe('ledger persistence', () => {
  it('reopens from SQLite with the same root and views, and keeps refused events out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-net-ledger-'))
    try {
      const pool = await identities(5)
      const history = await randomHistory({ rand: prng(11), ids: pool, events: 80, forks: 0.03 })
      const path = join(dir, 'ledger.db')
      const ledger = await Ledger.open({ config: history.generator.config, store: SqliteEventStore.open(path) })
      // deliver out of order: pending events wait, then land
      await ledger.ingest([...history.events].reverse())
      await ledger.ingest(new Uint8Array([1, 2, 3]))
      assert.equal(ledger.stateRootHex(), history.generator.stateRootHex())
      const root = ledger.stateRootHex()
      const views = pool.map(p => ledger.account(p.publicKey))
      await ledger.close()
      const reopened = await Ledger.open({ config: history.generator.config, store: SqliteEventStore.open(path) })
      assert.equal(reopened.stateRootHex(), root)
      assert.deepEqual(pool.map(p => reopened.account(p.publicKey)), views)
      assert.equal(reopened.size, history.events.length)
      await reopened.close()
      await assert.rejects(reopened.ingest(history.events), (e: unknown) => e instanceof LedgerError && e.code === 'ERR_LEDGER_CLOSED')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses further work after the store fails, and a reopen restores what was durable', async () => {
    const pool = await identities(3)
    const history = await randomHistory({ rand: prng(12), ids: pool, events: 20 })
    const inner = new MemoryEventStore()
    let fail = false
    const flaky: EventStore = {
      append: async (events: readonly StoredEvent[]) => { if (fail) throw new Error('disk full'); return inner.append(events) },
      has: async (id) => inner.has(id),
      get: async (id) => inner.get(id),
      scan: (o) => inner.scan(o),
      count: async () => inner.count(),
      close: async () => {}
    }
    const ledger = await Ledger.open({ config: history.generator.config, store: flaky })
    await ledger.ingest(history.events.slice(0, 10))
    const durable = ledger.stateRootHex()
    fail = true
    await assert.rejects(ledger.ingest(history.events.slice(10)), (e: unknown) => e instanceof LedgerError && e.code === 'ERR_STORE_FAILED')
    await assert.rejects(ledger.ingest(history.events.slice(10)), (e: unknown) => e instanceof LedgerError && e.code === 'ERR_STORE_FAILED')
    fail = false
    const reopened = await Ledger.open({ config: history.generator.config, store: flaky })
    assert.equal(reopened.stateRootHex(), durable)
  })

  it('starts a network from its genesis, and genesis money can be staked to mint', async () => {
    const [op, other] = await identities(2) as [Identity, Identity]
    const config = testConfig({ genesis: [{ account: op.publicKey, amount: credits(500) }] })
    const a = Ledger.create({ config })
    const b = Ledger.create({ config })
    assert.equal(a.account(op.publicKey).balance, credits(500))
    assert.equal(a.totals().minted, credits(500))
    const e = await a.append(op, 'stake', { amount: credits(100) }, { time: 1 })
    await a.append(op, 'transfer', { to: other.publicKey, amount: credits(400) }, { time: 2 })
    await assert.rejects(a.append(op, 'transfer', { to: other.publicKey, amount: 1n }, { time: 3 }), (err: unknown) => err instanceof LedgerError && err.code === 'ERR_OVERDRAFT')
    await b.ingest(a.exportEvents())
    assert.equal(b.stateRootHex(), a.stateRootHex())
    assert.equal(b.account(op.publicKey).staked, credits(100))
    assert.equal(a.totals().conservationGap, 0n)
    assert.ok(e.seq === 1)
  })
})
