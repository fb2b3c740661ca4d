/**
 * Crash safety of SqliteEventStore: a child process appends and acknowledges batches; we SIGKILL
 * it 5..60 ms after its first acknowledgement, reopen the file and check that every acknowledged
 * event is there with its bytes, that count() and scan() agree, and carry on with the next child on
 * the same file. CRASH_KILLS rounds (default 200); scripts/soak.ts runs 10 000.
 *
 * A SIGKILL tests the process-crash half of durability (WAL replay, torn transactions, a kill
 * during a checkpoint); power loss (what synchronous=FULL is for) would need a faulty block device,
 * which a test on a shared machine cannot simulate.
 */

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCrashRounds, CrashRoundError } from '../crash/harness.ts'

const LYING_WORKLOAD = fileURLToPath(new URL('../crash/lying-workload.ts', import.meta.url))
const kills = Number(process.env.CRASH_KILLS ?? 200)
const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)

async function withDir<T> (fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-net-crash-'))
  try { return await fn(dir) } finally { await rm(dir, { recursive: true, force: true }) }
}

describe('SqliteEventStore under SIGKILL', () => {
  it(`keeps every acknowledged event through ${kills} kills of the writer`, { timeout: 600_000 }, () => withDir(async (dir) => {
    let rounds = 0
    let result: { acked: number, killed: number }
    try {
      result = await runCrashRounds({
        dbPath: join(dir, 'events.db'),
        kills,
        seed,
        // Each round checks its own acks, a sample of older ones and count(); every 10th (and the
        // last) also scans the whole file, whose cost grows with it (~80k rows by round 200).
        fullCheckEvery: 10,
        onRound: () => { rounds++ }
      })
    } catch (err) {
      throw new Error(`crash test failed; reproduce with SEED=${seed} CRASH_KILLS=${kills}: ${(err as Error).message}`, { cause: err })
    }
    assert.equal(rounds, kills)
    // The run must have exercised something: children were really killed mid-work, and acked.
    assert.equal(result.killed, kills, `SEED=${seed}: some children were not killed`)
    assert.ok(result.acked >= kills, `SEED=${seed}: only ${result.acked} events acknowledged in ${kills} rounds`)
  }))

  for (const mode of ['phantom', 'wrong-bytes']) {
    it(`fails when a child acknowledges ${mode === 'phantom' ? 'an event it never stored' : 'bytes that do not match their id'}`, () => withDir(async (dir) => {
      await assert.rejects(
        runCrashRounds({ dbPath: join(dir, 'events.db'), kills: 1, seed, workload: LYING_WORKLOAD, workloadArgs: [mode] }),
        (err: unknown) => err instanceof CrashRoundError &&
          /missing|wrong bytes|do not hash/.test(err.message)
      )
    }))
  }
})
