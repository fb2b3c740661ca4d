/**
 * Crash safety of the ledger over SQLite: a child process authors and ingests batches of events,
 * acknowledging each batch after `ingest` resolved (after the store's commit); we SIGKILL it at a
 * random moment, reopen, and check that every acknowledged event is there and that the reopened
 * ledger's state root and views equal a replay from scratch (every stored event ingested afresh,
 * signatures checked, in shuffled order). CRASH_KILLS rounds (default 200).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCrashRounds } from '../../adapters/crash/harness.ts'
import type { CrashCheckContext } from '../../adapters/crash/harness.ts'
import { crashLedgerConfig } from '../../adapters/crash/ledger-workload.ts'
import { Ledger } from '../../../src/core/ledger/ledger.ts'
import { fromHex, toHex } from '../../../src/core/bytes.ts'
import { identities, prng } from '../../helpers/fixtures.ts'

const WORKLOAD = fileURLToPath(new URL('../../adapters/crash/ledger-workload.ts', import.meta.url))
const kills = Number(process.env.CRASH_KILLS ?? 200)
const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)

describe('ledger under SIGKILL', () => {
  it(`keeps every acknowledged event and a root equal to a replay, through ${kills} kills`, { timeout: 900_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-net-ledger-crash-'))
    try {
      const ids = await identities(5)
      const idsFile = join(dir, 'ids.txt')
      await writeFile(idsFile, (await Promise.all(ids.map(async i => toHex(await i.export())))).join('\n'))
      const config = crashLedgerConfig(ids)
      let replays = 0
      const check = async ({ store, ackedLog, full, rng }: CrashCheckContext): Promise<void> => {
        const ledger = await Ledger.open({ config, store })
        const sample = full ? ackedLog : ackedLog.slice(-64)
        for (const hex of sample) assert.ok(ledger.has(fromHex(hex) as Uint8Array), `acknowledged event ${hex} is missing`)
        if (!full) return
        const events = ledger.exportEvents()
        const shuffled = [...events]
        const r = prng(rng.int(0, 2 ** 30))
        for (let i = shuffled.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [shuffled[i], shuffled[j]] = [shuffled[j] as Uint8Array, shuffled[i] as Uint8Array] }
        const scratch = Ledger.create({ config })
        // Offer everything again until nothing new applies: a shuffled replay larger than the
        // pending pool's bound evicts waiting events, which a peer would re-send the same way.
        for (let size = -1; scratch.size !== size;) {
          size = scratch.size
          const res = await scratch.ingest(shuffled)
          assert.equal(res.rejected.length, 0, 'a stored event does not replay')
        }
        assert.equal(scratch.pendingCount, 0)
        assert.equal(scratch.stateRootHex(), ledger.stateRootHex(), 'reopened root differs from a replay from scratch')
        for (const id of ids) assert.deepEqual(scratch.account(id.publicKey), ledger.account(id.publicKey))
        assert.equal(ledger.totals().conservationGap, 0n)
        replays++
      }
      let result: { acked: number, killed: number }
      try {
        result = await runCrashRounds({ dbPath: join(dir, 'ledger.db'), kills, seed, workload: WORKLOAD, workloadArgs: [idsFile], check, fullCheckEvery: 10, minDelayMs: 5, maxDelayMs: 80 })
      } catch (err) {
        throw new Error(`ledger crash test failed; reproduce with SEED=${seed} CRASH_KILLS=${kills}: ${(err as Error).message}`, { cause: err })
      }
      assert.equal(result.killed, kills, `SEED=${seed}: some children were not killed`)
      assert.ok(result.acked >= kills, `SEED=${seed}: only ${result.acked} events acknowledged`)
      assert.ok(replays >= kills / 10)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
