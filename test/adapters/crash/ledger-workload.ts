/**
 * A ledger crash workload, run in the crash child: reopen the ledger on the child's store, then
 * author batches of real events (trial grants, transfers, stakes, escrows, observations,
 * heartbeats) for a few identities and acknowledge each batch only after `ingest` resolved, which
 * is after the store committed it. The parent (test/core/ledger/crash.test.ts) checks that every
 * acknowledged event survived and that the reopened ledger's root equals a replay from scratch.
 *
 * args: [identitiesFile] — a file of hex-encoded Identity exports, one per line.
 */
import { readFileSync } from 'node:fs'
import { Identity } from '../../../src/core/identity/index.ts'
import { Ledger } from '../../../src/core/ledger/ledger.ts'
import { findProofOfWork } from '../../../src/core/ledger/effects.ts'
import { signEvent } from '../../../src/core/ledger/event.ts'
import type { LedgerEvent } from '../../../src/core/ledger/event.ts'
import type { LedgerConfig } from '../../../src/core/ledger/config.ts'
import { compareBytes, fromHex, fromKey } from '../../../src/core/bytes.ts'
import { createPrng } from './prng.ts'
import type { WorkloadContext } from './workload.ts'

/** The network every child and the parent's check use. */
export function crashLedgerConfig (ids: readonly Identity[]): Partial<LedgerConfig> & { networkId: string } {
  return {
    networkId: 'edge-net-crash',
    trialDifficulty: 2,
    minStake: 0n,
    stakeLockMs: 0,
    rewardLockMs: 0,
    genesis: ids.map(id => ({ account: id.publicKey, amount: 1_000_000_000n }))
  }
}

export async function loadIdentities (path: string): Promise<Identity[]> {
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean)
  return Promise.all(lines.map(line => Identity.import(fromHex(line) as Uint8Array)))
}

export async function run ({ store, seed, args, ack }: WorkloadContext): Promise<void> {
  const ids = await loadIdentities(args[0] as string)
  const ledger = await Ledger.open({ config: crashLedgerConfig(ids), store })
  const rng = createPrng(seed)
  const net = ledger.config.networkId
  let time = ledger.latestTime
  for (let n = 0; n < 100_000; n++) {
    // One batch: one event for each of a few distinct authors, each at its next position.
    const authors = ids.filter(() => rng.int(0, 2) > 0)
    const batch: LedgerEvent[] = []
    for (const me of authors) {
      time++
      const state = ledger.chainState(me.publicKey)
      const others = ids.filter(i => i !== me)
      const to = others[rng.int(0, others.length - 1)] as Identity
      const prev = state?.head ?? null
      const seq = (state?.seq ?? 0) + 1
      const roll = rng.int(0, 9)
      const credits = ledger.incomingCredits(me.publicKey).slice(0, 8).map(c => c.id).sort(compareBytes)
      const base = { author: me.publicKey, seq, prev, deps: credits, time }
      const balance = state?.balance ?? 1_000_000_000n
      let e: LedgerEvent
      if (state === undefined || !state.trialGranted) e = await signEvent(net, me, { ...base, type: 'trial', body: { nonce: findProofOfWork(net, me.publicKey, 2) } })
      else if (roll < 4 && balance > 10n) e = await signEvent(net, me, { ...base, type: 'transfer', body: { to: to.publicKey, amount: BigInt(rng.int(1, 1000)) } })
      else if (roll < 5 && balance > 10n) e = await signEvent(net, me, { ...base, type: 'stake', body: { amount: BigInt(rng.int(1, 1000)) } })
      else if (roll < 6 && state.staked > 0n) e = await signEvent(net, me, { ...base, type: 'unstake', body: { amount: state.staked } })
      else if (roll < 7) {
        // Charge an open escrow, or open one for a new task (a task is reserved once per chain).
        const open = [...state.escrows.keys()][0]
        if (open !== undefined) {
          e = await signEvent(net, me, { ...base, type: 'escrow', body: ledger.escrowBody(me.publicKey, 'charge', fromKey(open), 1n, to.publicKey) })
        } else {
          const task = new Uint8Array(32)
          new DataView(task.buffer).setUint32(0, seq)
          task.set(rng.bytes(8), 8)
          e = await signEvent(net, me, { ...base, type: 'escrow', body: ledger.escrowBody(me.publicKey, 'reserve', task, BigInt(rng.int(1, 5))) })
        }
      } else if (roll < 8) e = await signEvent(net, me, { ...base, type: 'reputation', body: { subject: to.publicKey, kind: 'task_verified' } })
      else e = await signEvent(net, me, { ...base, type: 'heartbeat', body: { uptime: n } })
      batch.push(e)
    }
    if (batch.length === 0) continue
    const result = await ledger.ingest(batch.map(e => e.bytes))
    if (result.rejected.length > 0) throw result.rejected[0]?.error
    ack(batch.map(e => ({ id: e.id, bytes: e.bytes })))
    await new Promise(resolve => setImmediate(resolve))
  }
}
