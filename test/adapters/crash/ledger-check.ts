/**
 * The parent's check for the ledger crash workload (ledger-workload.ts): after a kill, reopen the
 * ledger on the store; every acknowledged event must be there; on full rounds the reopened
 * ledger's root and views must equal a replay from scratch (every stored event ingested afresh,
 * signatures checked, in shuffled order). Shared by test/core/ledger/crash.test.ts and the soak.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ledger } from '../../../src/core/ledger/ledger.ts'
import { Identity } from '../../../src/core/identity/index.ts'
import { fromHex, toHex } from '../../../src/core/bytes.ts'
import { crashLedgerConfig } from './ledger-workload.ts'
import type { CrashCheck, CrashCheckContext } from './harness.ts'
import { createPrng } from './prng.ts'

export const LEDGER_WORKLOAD = fileURLToPath(new URL('./ledger-workload.ts', import.meta.url))

/** Make the identities the children author with; returns the file to pass as workload argument. */
export async function writeIdentities (dir: string, count = 5): Promise<{ ids: Identity[], file: string }> {
  const ids = await Promise.all(Array.from({ length: count }, () => Identity.generate()))
  const file = join(dir, 'ids.txt')
  await writeFile(file, (await Promise.all(ids.map(async i => toHex(await i.export())))).join('\n'))
  return { ids, file }
}

export function ledgerCrashCheck (ids: readonly Identity[], onReplay: () => void = () => {}): CrashCheck {
  const config = crashLedgerConfig(ids)
  return async ({ store, ackedLog, full, rng }: CrashCheckContext): Promise<void> => {
    const ledger = await Ledger.open({ config, store })
    const sample = full ? ackedLog : ackedLog.slice(-64)
    for (const hex of sample) assert.ok(ledger.has(fromHex(hex) as Uint8Array), `acknowledged event ${hex} is missing`)
    if (!full) return
    const shuffled = ledger.exportEvents()
    const r = createPrng(rng.int(0, 2 ** 30))
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = r.int(0, i)
      ;[shuffled[i], shuffled[j]] = [shuffled[j] as Uint8Array, shuffled[i] as Uint8Array]
    }
    const scratch = Ledger.create({ config })
    // Offer everything again until nothing new applies: a shuffled replay larger than the pending
    // pool's bound evicts waiting events, which a peer would re-send the same way.
    for (let size = -1; scratch.size !== size;) {
      size = scratch.size
      const res = await scratch.ingest(shuffled)
      assert.equal(res.rejected.length, 0, 'a stored event does not replay')
    }
    assert.equal(scratch.pendingCount, 0)
    assert.equal(scratch.stateRootHex(), ledger.stateRootHex(), 'reopened root differs from a replay from scratch')
    for (const id of ids) assert.deepEqual(scratch.account(id.publicKey), ledger.account(id.publicKey))
    assert.equal(ledger.totals().conservationGap, 0n)
    onReplay()
  }
}
