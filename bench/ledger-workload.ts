/**
 * A realistic event stream for ledger benchmarks: `authors` identities each claim trial credits,
 * earn certified rewards, stake, pay each other and send heartbeats, every event signed for real.
 */
import { Identity } from '../src/core/identity/index.ts'
import { Ledger } from '../src/core/ledger/ledger.ts'
import { findProofOfWork } from '../src/core/ledger/effects.ts'
import { certificateStatement, sortSignatures } from '../src/core/ledger/certificate.ts'
import type { Certificate } from '../src/core/ledger/bodies.ts'

export const BENCH_CONFIG = { networkId: 'edge-net-bench', trialDifficulty: 4, minStake: 0n, rewardLockMs: 0, stakeLockMs: 0 }

function compare (a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) { const d = (a[i] as number) - (b[i] as number); if (d !== 0) return d }
  return 0
}

/** Generate `count` valid events from `authors` identities; returns encodings in authoring order. */
export async function generateEvents (count: number, authors = 100): Promise<{ events: Uint8Array[], ledger: Ledger }> {
  const ids = await Promise.all(Array.from({ length: authors }, () => Identity.generate()))
  const ledger = Ledger.create({ config: BENCH_CONFIG })
  const events: Uint8Array[] = []
  let time = 1
  // Each author: trial, then one reward so it has real credits to move.
  for (const [n, me] of ids.entries()) {
    events.push((await ledger.append(me, 'trial', { nonce: findProofOfWork(BENCH_CONFIG.networkId, me.publicKey, 4) }, { time })).bytes)
    const a = ids[(n + 1) % ids.length] as Identity
    const b = ids[(n + 2) % ids.length] as Identity
    const unsigned = { task: new Uint8Array(32).fill(n % 256).map((x, i) => i === 0 ? n >> 8 : x), result: new Uint8Array(32), base: 1_000_000_000n, hours: 0, workers: [me.publicKey, a.publicKey].sort(compare), submitter: b.publicKey }
    const st = certificateStatement(BENCH_CONFIG.networkId, unsigned)
    const cert: Certificate = { ...unsigned, sigs: sortSignatures(await Promise.all([me, a, b].map(async s => [s.publicKey, await s.sign(st)] as const)) as never) }
    events.push((await ledger.append(me, 'reward', { cert }, { time })).bytes)
  }
  while (events.length < count) {
    time++
    const batch = ids.map(async (me, n) => {
      const r = (time * 7919 + n * 104729) % 10
      if (r < 4) return ledger.append(me, 'transfer', { to: (ids[(n + 1 + time) % ids.length] as Identity).publicKey, amount: 1000n }, { time })
      if (r < 5) return ledger.append(me, 'stake', { amount: 100n }, { time })
      if (r < 7) return ledger.append(me, 'reputation', { subject: (ids[(n + time) % ids.length] as Identity).publicKey === me.publicKey ? (ids[(n + 1) % ids.length] as Identity).publicKey : (ids[(n + time) % ids.length] as Identity).publicKey, kind: 'task_verified' }, { time })
      return ledger.append(me, 'heartbeat', { uptime: time }, { time })
    })
    // Authors append concurrently here; the ledger serialises per author via await below.
    for (const p of batch) events.push((await p).bytes)
  }
  return { events: events.slice(0, count), ledger }
}
