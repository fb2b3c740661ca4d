/**
 * Crash soak: the crash tests' rounds (spawn a writer, SIGKILL it a few ms after its first
 * acknowledgement, reopen, check) CRASH_KILLS times (default 10 000). By default the writer is the
 * ledger (test/core/ledger/crash.test.ts: every acknowledged event survives and the reopened root
 * equals a replay from scratch); with `-- --store` it is the bare SQLite event store.
 *
 *   npm run soak                        # 10 000 kills of a ledger writer, random seed
 *   npm run soak -- --store             # the same against the bare event store
 *   SEED=123 CRASH_KILLS=500 npm run soak
 *
 * Env: CRASH_KILLS, SEED, FULL_CHECK_EVERY (full scan every N rounds, default 50; every round
 * still checks its own acks, a 64-id sample of older ones and count()), ROTATE_EVERY (start a fresh
 * file every N rounds so the file, and each full scan, stays bounded; default 200 for the ledger,
 * 1000 for the bare store).
 * On failure the database is kept and its path printed, with the seed and round to reproduce.
 */

import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCrashRounds } from '../test/adapters/crash/harness.ts'
import type { CrashRunOptions } from '../test/adapters/crash/harness.ts'
import { LEDGER_WORKLOAD, ledgerCrashCheck, writeIdentities } from '../test/adapters/crash/ledger-check.ts'

const kills = Number(process.env.CRASH_KILLS ?? 10_000)
const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)
const fullCheckEvery = Number(process.env.FULL_CHECK_EVERY ?? 50)
const storeOnly = process.argv.includes('--store')
// A ledger child replays its whole file when it opens, so ledger files rotate sooner.
const rotateEvery = Number(process.env.ROTATE_EVERY ?? (storeOnly ? 1000 : 200))

const dir = await mkdtemp(join(tmpdir(), 'edge-net-soak-'))
const started = Date.now()
let done = 0
let acked = 0
let workload: Partial<CrashRunOptions> = {}
if (!storeOnly) {
  const { ids, file } = await writeIdentities(dir)
  workload = { workload: LEDGER_WORKLOAD, workloadArgs: [file], check: ledgerCrashCheck(ids), maxDelayMs: 80 }
}
console.log(JSON.stringify({ soak: storeOnly ? 'sqlite-event-store' : 'ledger', kills, seed, fullCheckEvery, rotateEvery, dir }))
try {
  for (let start = 0; start < kills; start += rotateEvery) {
    const dbPath = join(dir, `events-${start}.db`)
    const result = await runCrashRounds({
      dbPath,
      kills: Math.min(rotateEvery, kills - start),
      startRound: start,
      seed,
      fullCheckEvery,
      ...workload,
      onRound: (r) => {
        done++
        if (done % 100 === 0 || done === kills) {
          const elapsed = (Date.now() - started) / 1000
          console.log(JSON.stringify({ round: r.round + 1, totalAckedThisFile: r.totalAcked, elapsedS: Math.round(elapsed), roundsPerS: +(done / elapsed).toFixed(2) }))
        }
      }
    })
    acked += result.acked
    const size = (await stat(dbPath)).size
    console.log(JSON.stringify({ file: dbPath, rounds: Math.min(rotateEvery, kills - start), acked: result.acked, killed: result.killed, bytes: size }))
    await rm(dbPath, { force: true })
  }
  console.log(JSON.stringify({ ok: true, kills, seed, acked, seconds: Math.round((Date.now() - started) / 1000) }))
  await rm(dir, { recursive: true, force: true })
} catch (err) {
  console.error(`SOAK FAILED: SEED=${seed} CRASH_KILLS=${kills}; database kept in ${dir}`)
  console.error(err)
  process.exitCode = 1
}
