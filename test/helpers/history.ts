/**
 * Random but valid ledger histories for property tests and simulations. A generator ledger authors
 * every event through the real API, so each event is valid in its causal past; with `forks`, some
 * authors also sign a second, conflicting event at a position they already used (equivocation).
 */
import type { Identity } from '../../src/core/identity/index.ts'
import type { Ledger } from '../../src/core/ledger/ledger.ts'
import { signEvent } from '../../src/core/ledger/event.ts'
import { LedgerError } from '../../src/core/ledger/errors.ts'
import { findProofOfWork } from '../../src/core/ledger/effects.ts'
import { slashAmount } from '../../src/core/economy/index.ts'
import { OBSERVATION_KINDS } from '../../src/core/reputation/index.ts'
import { attest, certify, compare, newLedger, taskId } from './fixtures.ts'

export interface History {
  /** Encodings in authoring order (every event valid in its causal past). */
  events: Uint8Array[]
  /** Authors that equivocated (hex of public key). */
  equivocators: Set<string>
  generator: Ledger
}

export interface HistoryOptions {
  rand: () => number
  ids: Identity[]
  events: number
  /** Probability that a step is an equivocation. */
  forks?: number
}

const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

export async function randomHistory (opts: HistoryOptions): Promise<History> {
  const { rand, ids } = opts
  // Every identity starts with some real credits (genesis): minting needs a real payment.
  const ledger = newLedger({ minStake: 0n, stakeLockMs: 5, rewardLockMs: 5, genesis: ids.map(i => ({ account: i.publicKey, amount: 1_000_000_000n })) })
  const net = ledger.config.networkId
  const events: Uint8Array[] = []
  const equivocators = new Set<string>()
  let time = 1
  let tasks = 0
  const record = (bytes: Uint8Array): void => { events.push(bytes) }
  for (let step = 0; events.length < opts.events && step < opts.events * 20; step++) {
    const me = pick(rand, ids)
    const others = ids.filter(i => i !== me)
    const state = ledger.chainState(me.publicKey)
    const balance = state?.balance ?? 0n
    time += 1 + Math.floor(rand() * 3)
    const roll = rand()
    try {
      if (roll < (opts.forks ?? 0) && state !== undefined && state.seq >= 1) {
        const head = ledger.event(state.head as Uint8Array)
        if (head === undefined) continue
        const twin = await signEvent(net, me, { type: 'heartbeat', author: me.publicKey, seq: head.seq, prev: head.prev, deps: [], time: head.time, body: { uptime: Math.floor(rand() * 1e6) } })
        const r = await ledger.ingest(twin.bytes)
        if (r.applied.length === 1) { record(twin.bytes); equivocators.add(hex(me.publicKey)) }
        continue
      }
      let e
      if (state === undefined || !state.trialGranted) {
        e = await ledger.append(me, 'trial', { nonce: findProofOfWork(net, me.publicKey, ledger.config.trialDifficulty) }, { time })
      } else if (roll < 0.25) {
        const workers = [me, pick(rand, others)].filter((w, i, a) => a.indexOf(w) === i)
        const submitter = pick(rand, others.filter(o => !workers.includes(o)))
        if (workers.length < 2 || submitter === undefined) continue
        // The submitter pays the worker for the task (real credits), then the worker mints on it.
        const task = taskId(++tasks)
        const price = BigInt(1 + Math.floor(rand() * 1000))
        const subState = ledger.chainState(submitter.publicKey)
        if ((subState?.balance ?? 1_000_000_000n) < price || subState?.trial !== 0n) continue
        record((await ledger.append(submitter, 'escrow', ledger.escrowBody(submitter.publicKey, 'reserve', task, price), { time })).bytes)
        const charge = await ledger.append(submitter, 'escrow', ledger.escrowBody(submitter.publicKey, 'charge', task, price, me.publicKey), { time })
        record(charge.bytes)
        const cert = await certify(net, submitter, workers, { task, base: price, hours: Math.floor(rand() * 2_000_000) })
        e = await ledger.append(me, 'reward', { cert }, { time, deps: [charge.id] })
      } else if (roll < 0.4 && balance > 0n) {
        e = await ledger.append(me, 'transfer', { to: pick(rand, others).publicKey, amount: 1n + BigInt(Math.floor(rand() * Number(balance))) }, { time })
      } else if (roll < 0.5 && balance > 0n) {
        e = await ledger.append(me, 'stake', { amount: 1n + BigInt(Math.floor(rand() * Number(balance))) }, { time })
      } else if (roll < 0.55 && (state.staked ?? 0n) > 0n) {
        e = await ledger.append(me, 'unstake', { amount: state.staked }, { time })
      } else if (roll < 0.7) {
        const escrows = [...state.escrows.keys()]
        if (escrows.length > 0 && rand() < 0.6) {
          const key = pick(rand, escrows)
          const task = Uint8Array.from(key, c => c.charCodeAt(0))
          const left = (state.escrows.get(key)?.real ?? 0n) + (state.escrows.get(key)?.trial ?? 0n)
          const amount = 1n + BigInt(Math.floor(rand() * Number(left)))
          e = rand() < 0.5
            ? await ledger.append(me, 'escrow', ledger.escrowBody(me.publicKey, 'charge', task, amount, pick(rand, others).publicKey), { time })
            : await ledger.append(me, 'escrow', ledger.escrowBody(me.publicKey, 'release', task, amount), { time })
        } else {
          const avail = balance + state.trial
          if (avail === 0n) continue
          const amount = 1n + BigInt(Math.floor(rand() * Number(avail)))
          e = await ledger.append(me, 'escrow', ledger.escrowBody(me.publicKey, 'reserve', taskId(1_000_000 + ++tasks), amount), { time })
        }
      } else if (roll < 0.75 && balance > 0n) {
        e = await ledger.append(me, 'delegate', { to: pick(rand, others).publicKey, amount: 1n }, { time })
      } else if (roll < 0.88) {
        const offender = pick(rand, others)
        const head = ledger.chainState(offender.publicKey)
        const headEvent = head?.head === null || head?.head === undefined ? undefined : ledger.event(head.head)
        if (headEvent === undefined || head === undefined || head.staked === 0n) continue
        const signers = others.filter(o => o !== offender).slice(0, 2)
        if (signers.length < 2) continue
        const evidence = await attest(net, offender, 'InvalidResult', signers, taskId(Math.floor(rand() * 4)))
        const amount = slashAmount(head.staked, 'InvalidResult')
        if (amount === 0n) continue
        e = await ledger.append(me, 'slash', { offender: offender.publicKey, reason: 'InvalidResult', amount, evidence, beneficiaries: signers.map(s => s.publicKey).sort(compare) }, { deps: [headEvent.id], time })
      } else if (roll < 0.95) {
        e = await ledger.append(me, 'reputation', { subject: pick(rand, others).publicKey, kind: pick(rand, OBSERVATION_KINDS) }, { time })
      } else {
        e = await ledger.append(me, 'heartbeat', { uptime: step }, { time })
      }
      record(e.bytes)
    } catch (err) {
      // The generator follows the author's main chain; after an equivocation some of its
      // choices can be refused (the same rules a real author faces). Skip those.
      if (!(err instanceof LedgerError)) throw err
      if (process.env.DEBUG_HISTORY !== undefined) console.log(err.code, err.message)
    }
  }
  return { events, equivocators, generator: ledger }
}
