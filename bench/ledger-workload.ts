/**
 * A realistic event stream for ledger benchmarks: `authors` identities claim trial credits, then
 * pay each other, stake, observe each other and send heartbeats, every event signed for real.
 */
import { Identity } from '../src/core/identity/index.ts'
import { Ledger } from '../src/core/ledger/ledger.ts'
import { findProofOfWork } from '../src/core/ledger/effects.ts'
import type { LedgerConfig } from '../src/core/ledger/config.ts'

export const BENCH_NETWORK = 'edge-net-bench'

/**
 * Generate `count` valid events from `authors` identities (each funded at genesis, each claiming
 * its trial grant first); returns the encodings in authoring order, the network's config (the
 * genesis names the authors) and how many leading events are that set-up.
 */
export async function generateEvents (count: number, authors = 100): Promise<{ events: Uint8Array[], config: Partial<LedgerConfig> & { networkId: string }, setup: number }> {
  const ids = await Promise.all(Array.from({ length: authors }, () => Identity.generate()))
  const config = {
    networkId: BENCH_NETWORK, trialDifficulty: 4, minStake: 0n, rewardLockMs: 0, stakeLockMs: 0,
    genesis: ids.map(id => ({ account: id.publicKey, amount: 1_000_000_000_000n }))
  }
  const ledger = Ledger.create({ config })
  const events: Uint8Array[] = []
  let time = 1
  for (const me of ids) {
    events.push((await ledger.append(me, 'trial', { nonce: findProofOfWork(BENCH_NETWORK, me.publicKey, 4) }, { time })).bytes)
  }
  while (events.length < count) {
    time++
    const batch = ids.map(async (me, n) => {
      const r = (time * 7919 + n * 104729) % 10
      if (r < 4) return ledger.append(me, 'transfer', { to: (ids[(n + 1 + time) % ids.length] as Identity).publicKey, amount: 1000n }, { time })
      if (r < 5) return ledger.append(me, 'stake', { amount: 100n }, { time })
      if (r < 7) {
        const subject = ids[(n + 1 + (time % (ids.length - 1))) % ids.length] as Identity
        return ledger.append(me, 'reputation', { subject: subject.publicKey, kind: 'task_verified' }, { time })
      }
      return ledger.append(me, 'heartbeat', { uptime: time }, { time })
    })
    // Authors append concurrently; each author's own events stay in order.
    for (const p of batch) events.push((await p).bytes)
  }
  return { events: events.slice(0, count), config, setup: authors }
}
