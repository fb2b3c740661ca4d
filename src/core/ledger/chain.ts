/**
 * Per-author chain rules. Each author's events form a chain (seq 1, 2, 3, ... linked by `prev`),
 * and the author's spendable state is computed along that chain alone: its own events, plus the
 * credits from other authors that it acknowledges by naming them in `deps`. So an event's
 * validity is a function of its causal past only, and every replica that holds the event reaches
 * the same verdict on it, whatever it has or has not seen of the rest of the network.
 *
 * `advanceChain` checks one event against the chain state at its `prev` and, only if every check
 * passes, updates that state: a refused event changes nothing.
 */
import { equalBytes, toKey } from '../bytes.ts'
import { applyMultiplier, networkHours, slashAmount } from '../economy/index.ts'
import { LedgerError } from './errors.ts'
import { MAX_AMOUNT } from './schema.ts'
import type { LedgerEvent } from './event.ts'
import type { BatchCertificate } from './bodies.ts'
import type { LedgerConfig } from './config.ts'
import { hasProofOfWork } from './effects.ts'

interface Escrow { real: bigint, trial: bigint }
interface Delegation { amount: bigint, unlockAt: number }
interface Locked { amount: bigint, until: number }

/** An author's state after some event of its chain. */
export class ChainState {
  seq = 0
  head: Uint8Array | null = null
  time = 0
  /** Real credits the author can move now. */
  balance = 0n
  /** Minted rewards that cannot move before `until` (seed 001 §4.4: delayed payout). */
  locked: Locked[] = []
  /** Trial credits: spendable on tasks only, never transferable (seed 002). */
  trial = 0n
  staked = 0n
  stakeUnlockAt = 0
  delegated = new Map<string, Delegation>()
  escrows = new Map<string, Escrow>()
  /** Tasks whose escrow was settled to zero: a task is reserved once. */
  closedEscrows = new Set<string>()
  /** Credit events of other authors this chain has counted (each counts once), by event index. */
  acked = new Set<number>()
  /** Tasks (per-task certificates) and settle events (batch certificates) this author has been rewarded for. */
  rewarded = new Set<string>()
  trialGranted = false
  /** The network's paid work (µcr) as of this author's last settle event: its settle totals only grow. */
  work = 0n

  clone (): ChainState {
    const c = new ChainState()
    c.seq = this.seq
    c.head = this.head
    c.time = this.time
    c.balance = this.balance
    c.locked = this.locked.map(l => ({ ...l }))
    c.trial = this.trial
    c.staked = this.staked
    c.stakeUnlockAt = this.stakeUnlockAt
    c.delegated = new Map([...this.delegated].map(([k, d]) => [k, { ...d }]))
    c.escrows = new Map([...this.escrows].map(([k, e]) => [k, { ...e }]))
    c.closedEscrows = new Set(this.closedEscrows)
    c.acked = new Set(this.acked)
    c.rewarded = new Set(this.rewarded)
    c.trialGranted = this.trialGranted
    c.work = this.work
    return c
  }
}

/** What the chain rules need from the rest of the ledger. */
export interface ChainContext {
  config: LedgerConfig
  /** A dependency of the event, already applied (the ledger guarantees it). */
  dep (key: string): LedgerEvent
  /** The ledger's index of an applied event (stable for the ledger's life). */
  indexOf (key: string): number
  /** The time of the applied event at `index` (what `dep(key).time` is). */
  timeOf (index: number): number
  /** `creditTo(dep, accountKey)` for the applied event at `index`, without decoding it when the ledger remembers it. */
  creditOf (index: number, accountKey: string): { readonly real: bigint, readonly trial: bigint } | null
  /** The offender's staked amount as of one of its events, along that event's own chain. */
  stakedAt (event: LedgerEvent): bigint
}

function refuse (code: ConstructorParameters<typeof LedgerError>[0], message: string): never {
  throw new LedgerError(code, message)
}

/**
 * Check `e` against `state` (the author's state at `e.prev`) and advance `state` past it.
 * Throws LedgerError and leaves `state` untouched when any rule fails.
 * @example advanceChain(state, event, ctx)
 */
export function advanceChain (state: ChainState, e: LedgerEvent, ctx: ChainContext): void {
  const { config } = ctx
  if (e.seq !== state.seq + 1 || (e.prev === null ? state.head !== null : state.head === null || !equalBytes(e.prev, state.head))) {
    refuse('ERR_CHAIN_BROKEN', `event at seq ${e.seq} does not follow the author's event at seq ${state.seq}`)
  }
  if (e.time < state.time) refuse('ERR_TIME_REGRESSION', 'event time is before its predecessor\'s')
  const authorKey = e.authorKey

  // Credits this event acknowledges, each at most once per chain.
  let ackReal = 0n
  let ackTrial = 0n
  let newAcks: number[] | null = null
  const depKeys = e.depKeys
  for (let k = 0; k < depKeys.length; k++) {
    const index = ctx.indexOf(depKeys[k] as string)
    if (ctx.timeOf(index) > e.time) refuse('ERR_TIME_REGRESSION', 'event time is before a dependency\'s')
    if (state.acked.has(index)) continue
    const credit = ctx.creditOf(index, authorKey)
    if (credit === null) continue
    ackReal += credit.real
    ackTrial += credit.trial
    ;(newAcks ??= []).push(index)
  }

  // Rewards whose lock has passed become spendable.
  let matured = 0n
  let stillLocked: Locked[] = state.locked
  if (stillLocked.length > 0) {
    stillLocked = []
    for (const l of state.locked) {
      if (l.until <= e.time) matured += l.amount
      else stillLocked.push(l)
    }
  }

  let balance = matured === 0n && ackReal === 0n ? state.balance : state.balance + matured + ackReal
  let trial = ackTrial === 0n ? state.trial : state.trial + ackTrial
  let staked = state.staked
  let stakeUnlockAt = state.stakeUnlockAt
  let locked = stillLocked
  let trialGranted = state.trialGranted
  let escrowUpdate: [string, Escrow | null] | null = null
  let closedByBatch: string[] | null = null
  let work = state.work
  let delegationUpdate: [string, Delegation | null] | null = null
  let rewardedTask: string | null = null

  switch (e.type) {
    case 'trial': {
      if (trialGranted) refuse('ERR_TRIAL_ALREADY_GRANTED', 'this identity already received its trial credits')
      if (!hasProofOfWork(config.networkId, e.author, (e as LedgerEvent<'trial'>).body.nonce, config.trialDifficulty)) {
        refuse('ERR_BAD_PROOF_OF_WORK', `trial nonce does not meet ${config.trialDifficulty} bits of proof of work`)
      }
      trialGranted = true
      trial += config.trialCredits
      break
    }
    case 'transfer': {
      const body = (e as LedgerEvent<'transfer'>).body
      if (equalBytes(body.to, e.author)) refuse('ERR_SELF_TARGET', 'a transfer to oneself is refused')
      if (body.amount > balance) {
        refuse(body.amount <= balance + trial ? 'ERR_TRIAL_NOT_TRANSFERABLE' : 'ERR_OVERDRAFT', `transfer of ${body.amount} exceeds the transferable balance ${balance}`)
      }
      balance -= body.amount
      break
    }
    case 'escrow': {
      const body = (e as LedgerEvent<'escrow'>).body
      const taskKey = toKey(body.task)
      const escrow = state.escrows.get(taskKey)
      if (body.op === 'reserve') {
        if (escrow !== undefined || state.closedEscrows.has(taskKey)) refuse('ERR_ESCROW_EXISTS', 'this task already has (or had) an escrow')
        // Trial credits are spent first (seed 002: they exist to pay for tasks).
        const expectTrial = body.amount < trial ? body.amount : trial
        if (body.trial !== expectTrial) refuse('ERR_BAD_TRIAL_SPLIT', `reserve must take ${expectTrial} from trial credits`)
        if (body.amount - body.trial > balance) refuse('ERR_OVERDRAFT', `reserve of ${body.amount} exceeds the balance`)
        trial -= body.trial
        balance -= body.amount - body.trial
        escrowUpdate = [taskKey, { real: body.amount - body.trial, trial: body.trial }]
      } else {
        if (escrow === undefined) refuse('ERR_NO_ESCROW', 'no escrow is open for this task')
        if (body.amount > escrow.real + escrow.trial) refuse('ERR_OVERDRAFT', `${body.op} of ${body.amount} exceeds the escrow's ${escrow.real + escrow.trial}`)
        const expectTrial = body.amount < escrow.trial ? body.amount : escrow.trial
        if (body.trial !== expectTrial) refuse('ERR_BAD_TRIAL_SPLIT', `${body.op} must take ${expectTrial} from the escrow's trial part`)
        if (body.op === 'charge' && equalBytes(body.payee as Uint8Array, e.author)) refuse('ERR_SELF_TARGET', 'an escrow cannot pay its own submitter')
        if (body.op === 'release') {
          balance += body.amount - body.trial
          trial += body.trial
        }
        const left = { real: escrow.real - (body.amount - body.trial), trial: escrow.trial - body.trial }
        escrowUpdate = [taskKey, left.real + left.trial === 0n ? null : left]
      }
      break
    }
    case 'reward': {
      const body = (e as LedgerEvent<'reward'>).body
      if (body.batch !== undefined) {
        const minted = batchReward(state, e, body.batch, staked, ctx)
        rewardedTask = minted.key
        locked = [...locked, { amount: minted.amount, until: e.time + config.rewardLockMs }]
        break
      }
      const { cert } = body
      if (!cert.workers.some(w => equalBytes(w, e.author))) refuse('ERR_NOT_A_WORKER', 'the author is not a worker of this certificate')
      if (equalBytes(cert.submitter, e.author)) refuse('ERR_NOT_A_WORKER', 'a submitter cannot reward itself')
      const taskKey = toKey(cert.task)
      if (state.rewarded.has(taskKey)) refuse('ERR_ALREADY_REWARDED', 'this task was already rewarded to this worker')
      if (staked < config.minStake) refuse('ERR_INSUFFICIENT_STAKE', `minting needs at least ${config.minStake} staked`)
      // A reward is a bonus on a real payment: deps must name the submitter's escrow charge to this
      // worker for this task, and the certificate's base may not exceed the real (non-trial) part
      // of it. So minting costs the submitter real credits, and trial credits never mint.
      let paid = 0n
      for (const key of e.depKeys) {
        const dep = ctx.dep(key)
        if (dep.type !== 'escrow' || !equalBytes(dep.author, cert.submitter)) continue
        const charge = (dep as LedgerEvent<'escrow'>).body
        if (charge.op === 'charge' && equalBytes(charge.payee as Uint8Array, e.author) && equalBytes(charge.task, cert.task)) paid += charge.amount - charge.trial
      }
      if (cert.base > paid) refuse('ERR_BAD_CERTIFICATE', `the reward's base ${cert.base} exceeds the real payment ${paid} for the task named in deps`)
      const amount = applyMultiplier(cert.base, cert.hours, config.multiplier)
      if (amount > MAX_AMOUNT) refuse('ERR_BAD_AMOUNT', 'the reward would exceed the largest amount')
      locked = [...locked, { amount, until: e.time + config.rewardLockMs }]
      rewardedTask = taskKey
      break
    }
    case 'settle': {
      const body = (e as LedgerEvent<'settle'>).body
      // The network's paid work this batch builds on: the author's own last total and the total of
      // every settle event it names in deps (its view of the frontier). Equality, not >=: a total
      // cannot be inflated, and one that ignores the frontier only undercounts (docs/ledger.md).
      const before = workBefore(state.work, e.depKeys, ctx.dep)
      let paidAll = 0n
      const seen = new Set<string>()
      for (const item of body.items) {
        const taskKey = toKey(item.task)
        if (seen.has(taskKey)) refuse('ERR_BAD_SETTLEMENT', 'a settle event closes each task once')
        seen.add(taskKey)
        const escrow = state.escrows.get(taskKey)
        if (escrow === undefined) refuse('ERR_NO_ESCROW', 'no escrow is open for a task of this settlement')
        let real = escrow.real
        let tr = escrow.trial
        for (const [payee, amount, trialPart] of item.pay) {
          if (equalBytes(payee, e.author)) refuse('ERR_SELF_TARGET', 'an escrow cannot pay its own submitter')
          if (amount > real + tr) refuse('ERR_OVERDRAFT', `a payment of ${amount} exceeds the escrow's ${real + tr}`)
          const expectTrial = amount < tr ? amount : tr
          if (trialPart !== expectTrial) refuse('ERR_BAD_TRIAL_SPLIT', `a payment must take ${expectTrial} from the escrow's trial part`)
          tr -= trialPart
          real -= amount - trialPart
          paidAll += amount
        }
        if (item.release !== real + tr) refuse('ERR_BAD_SETTLEMENT', `a settlement must empty each escrow: release ${real + tr}, not ${item.release}`)
        if (item.releaseTrial !== tr) refuse('ERR_BAD_TRIAL_SPLIT', `the release must return ${tr} of trial credit`)
        balance += real
        trial += tr
      }
      if (body.total !== before + paidAll) refuse('ERR_BAD_NETWORK_WORK', `total must be ${before + paidAll} (the work this batch builds on plus its payments), not ${body.total}`)
      if (body.total > MAX_AMOUNT) refuse('ERR_BAD_AMOUNT', 'the network work total would exceed the largest amount')
      work = body.total
      closedByBatch = [...seen]
      break
    }
    case 'stake': {
      const { amount } = (e as LedgerEvent<'stake'>).body
      if (amount > balance) refuse(amount <= balance + trial ? 'ERR_TRIAL_NOT_TRANSFERABLE' : 'ERR_OVERDRAFT', `stake of ${amount} exceeds the balance ${balance}`)
      balance -= amount
      staked += amount
      stakeUnlockAt = e.time + config.stakeLockMs
      break
    }
    case 'unstake': {
      const { amount } = (e as LedgerEvent<'unstake'>).body
      if (amount > staked) refuse('ERR_INSUFFICIENT_STAKE', `unstake of ${amount} exceeds the stake ${staked}`)
      if (e.time < stakeUnlockAt) refuse('ERR_STAKE_LOCKED', `stake is locked until ${stakeUnlockAt}`)
      staked -= amount
      balance += amount
      break
    }
    case 'delegate': {
      const body = (e as LedgerEvent<'delegate'>).body
      if (equalBytes(body.to, e.author)) refuse('ERR_SELF_TARGET', 'delegate to another node; own stake uses stake')
      if (body.amount > balance) refuse(body.amount <= balance + trial ? 'ERR_TRIAL_NOT_TRANSFERABLE' : 'ERR_OVERDRAFT', `delegation of ${body.amount} exceeds the balance ${balance}`)
      const key = toKey(body.to)
      const before = state.delegated.get(key)?.amount ?? 0n
      balance -= body.amount
      delegationUpdate = [key, { amount: before + body.amount, unlockAt: e.time + config.stakeLockMs }]
      break
    }
    case 'undelegate': {
      const body = (e as LedgerEvent<'undelegate'>).body
      const key = toKey(body.to)
      const d = state.delegated.get(key)
      if (d === undefined || body.amount > d.amount) refuse('ERR_INSUFFICIENT_STAKE', 'undelegation exceeds what was delegated to that node')
      if (e.time < d.unlockAt) refuse('ERR_STAKE_LOCKED', `delegation is locked until ${d.unlockAt}`)
      balance += body.amount
      delegationUpdate = [key, d.amount === body.amount ? null : { amount: d.amount - body.amount, unlockAt: d.unlockAt }]
      break
    }
    case 'slash': {
      const body = (e as LedgerEvent<'slash'>).body
      if (equalBytes(body.offender, e.author)) refuse('ERR_SELF_TARGET', 'an author cannot slash itself')
      if (body.reason === 'DoubleSpend') refuse('ERR_BAD_SLASH', 'DoubleSpend slashes are derived from the two conflicting events, not authored')
      if (body.beneficiaries.some(b => equalBytes(b, body.offender))) refuse('ERR_BAD_SLASH', 'the offender cannot be a beneficiary')
      // The cap is the reason's severity applied to the offender's stake as of an offender event
      // named in deps: a fixed point of its chain, so every replica computes the same cap.
      let cap = 0n
      for (const key of e.depKeys) {
        const dep = ctx.dep(key)
        if (equalBytes(dep.author, body.offender)) {
          const c = slashAmount(ctx.stakedAt(dep), body.reason)
          if (c > cap) cap = c
        }
      }
      if (body.amount > cap) refuse('ERR_BAD_SLASH', `slash of ${body.amount} exceeds the cap ${cap} for ${body.reason} (name an offender event in deps)`)
      // Attesters put their own stake behind the accusation: each must have at least the minimum
      // stake as of one of its events named in deps (so fresh keys cannot gang up on anyone).
      if (config.minStake > 0n) {
        for (const [signer] of body.evidence.sigs) {
          let staked = false
          for (const key of e.depKeys) {
            const dep = ctx.dep(key)
            if (equalBytes(dep.author, signer) && ctx.stakedAt(dep) >= config.minStake) { staked = true; break }
          }
          if (!staked) refuse('ERR_BAD_SLASH', 'every attester needs the minimum stake, shown by one of its events in deps')
        }
      }
      break
    }
    case 'reputation': {
      if (equalBytes((e as LedgerEvent<'reputation'>).body.subject, e.author)) refuse('ERR_SELF_TARGET', 'no account can observe itself')
      break
    }
    default:
      break
  }

  // Every check passed: commit.
  state.seq = e.seq
  state.head = e.id
  state.time = e.time
  state.balance = balance
  state.trial = trial
  state.staked = staked
  state.stakeUnlockAt = stakeUnlockAt
  state.locked = locked
  state.trialGranted = trialGranted
  if (newAcks !== null) for (const key of newAcks) state.acked.add(key)
  if (escrowUpdate !== null) {
    if (escrowUpdate[1] === null) {
      state.escrows.delete(escrowUpdate[0])
      state.closedEscrows.add(escrowUpdate[0])
    } else {
      state.escrows.set(escrowUpdate[0], escrowUpdate[1])
    }
  }
  if (delegationUpdate !== null) {
    if (delegationUpdate[1] === null) state.delegated.delete(delegationUpdate[0])
    else state.delegated.set(delegationUpdate[0], delegationUpdate[1])
  }
  if (closedByBatch !== null) {
    for (const key of closedByBatch) {
      state.escrows.delete(key)
      state.closedEscrows.add(key)
    }
  }
  state.work = work
  if (rewardedTask !== null) state.rewarded.add(rewardedTask)
}

/**
 * The rules of a batch reward (checked in advanceChain's `reward` case): it names the submitter's
 * settle event in deps; the author was paid by it (and is not its submitter); at least `quorum`
 * distinct workers paid by it signed the batch (their signatures were checked before, see
 * ledger.ts); the author was not rewarded for this batch yet and holds the minimum stake; `base`
 * is at most the real part of what the batch paid the author (trial credit never mints); `total`
 * is the settle event's network work. Returns the key to mark rewarded and the amount minted.
 */
function batchReward (state: ChainState, e: LedgerEvent, batch: BatchCertificate, staked: bigint, ctx: ChainContext): { key: string, amount: bigint } {
  const { config } = ctx
  const settleKey = toKey(batch.settle)
  if (!e.depKeys.includes(settleKey)) refuse('ERR_BAD_CERTIFICATE', 'a batch reward names its settle event in deps')
  const settle = ctx.dep(settleKey)
  if (settle.type !== 'settle') refuse('ERR_BAD_CERTIFICATE', 'a batch certificate names a settle event')
  if (equalBytes(settle.author, e.author)) refuse('ERR_NOT_A_WORKER', 'a submitter cannot reward itself')
  const body = (settle as LedgerEvent<'settle'>).body
  const payees = new Set<string>()
  let paid = 0n
  for (const item of body.items) {
    for (const [payee, amount, trialPart] of item.pay) {
      const key = toKey(payee)
      payees.add(key)
      if (key === e.authorKey) paid += amount - trialPart
    }
  }
  if (!payees.has(e.authorKey)) refuse('ERR_NOT_A_WORKER', 'the author was not paid by this settlement')
  for (const [signer] of batch.sigs) {
    if (!payees.has(toKey(signer))) refuse('ERR_BAD_CERTIFICATE', 'every signer of a batch certificate must be a worker the batch paid')
  }
  if (batch.sigs.length < config.quorum) refuse('ERR_BAD_CERTIFICATE', `a batch certificate needs ${config.quorum} worker signatures`)
  if (state.rewarded.has(settleKey)) refuse('ERR_ALREADY_REWARDED', 'this batch was already rewarded to this worker')
  if (staked < config.minStake) refuse('ERR_INSUFFICIENT_STAKE', `minting needs at least ${config.minStake} staked`)
  if (batch.base > paid) refuse('ERR_BAD_CERTIFICATE', `the reward's base ${batch.base} exceeds the real payment ${paid} of the batch`)
  if (batch.total !== body.total) refuse('ERR_BAD_NETWORK_WORK', `a batch reward is priced at its settle event's network work ${body.total}`)
  const amount = applyMultiplier(batch.base, networkHours(batch.total), config.multiplier)
  if (amount > MAX_AMOUNT) refuse('ERR_BAD_AMOUNT', 'the reward would exceed the largest amount')
  return { key: settleKey, amount }
}

/**
 * The network work a settle event builds on: the larger of its author's own last total and the
 * total of every settle event among `depKeys` (the rule chain.ts checks, and what `append` fills in).
 * @example const before = workBefore(state.work, e.depKeys, ctx.dep)
 */
export function workBefore (own: bigint, depKeys: Iterable<string>, dep: (key: string) => LedgerEvent): bigint {
  let before = own
  for (const key of depKeys) {
    const d = dep(key)
    if (d.type === 'settle') {
      const t = (d as LedgerEvent<'settle'>).body.total
      if (t > before) before = t
    }
  }
  return before
}
