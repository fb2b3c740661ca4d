/**
 * Crash safety of the ledger over SQLite: a child process authors and ingests batches of events,
 * acknowledging each batch after `ingest` resolved (after the store's commit); we SIGKILL it at a
 * random moment, reopen, and check that every acknowledged event is there and that the reopened
 * ledger's state root and views equal a replay from scratch. CRASH_KILLS rounds (default 200;
 * `npm run soak` runs 10,000).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCrashRounds } from '../../adapters/crash/harness.ts'
import { LEDGER_WORKLOAD, ledgerCrashCheck, writeIdentities } from '../../adapters/crash/ledger-check.ts'

const kills = Number(process.env.CRASH_KILLS ?? 200)
const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)

describe('ledger under SIGKILL', () => {
  it(`keeps every acknowledged event and a root equal to a replay, through ${kills} kills`, { timeout: 900_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-net-ledger-crash-'))
    try {
      const { ids, file } = await writeIdentities(dir)
      let replays = 0
      let result: { acked: number, killed: number }
      try {
        result = await runCrashRounds({
          dbPath: join(dir, 'ledger.db'), kills, seed, workload: LEDGER_WORKLOAD, workloadArgs: [file],
          check: ledgerCrashCheck(ids, () => { replays++ }), fullCheckEvery: 10, minDelayMs: 5, maxDelayMs: 80
        })
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
