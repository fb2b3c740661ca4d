/**
 * What an event does to the derived views, as a pure function of the event: the list of
 * (account, field, amount) deltas it contributes. Because an event's effect depends on nothing
 * but itself, the views are a sum over the effective events, the same on every replica that holds
 * the same set, and an event can be taken back exactly (when its author turns out to have
 * equivocated) by subtracting the same deltas.
 *
 * Every delta list is balanced: the money fields (balance, trial, reserved, staked, delegatedOut)
 * summed over all accounts, plus `burned`, change by exactly what `minted` changes by. That is the
 * conservation law the tests check after every step.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, toKey, utf8 } from '../bytes.ts'
import { applyMultiplier, networkHours, splitSlash } from '../economy/index.ts'
import type { LedgerEvent } from './event.ts'
import { keyOf } from './event.ts'
import type { LedgerConfig } from './config.ts'

export const ACCOUNT_FIELDS = [
  'balance', 'trial', 'reserved', 'staked', 'delegatedOut', 'delegatedIn', 'slashed', 'earned', 'spentPositive', 'spentNegative'
] as const
export type AccountField = typeof ACCOUNT_FIELDS[number]
export type GlobalField = 'minted' | 'burned'

/** One change to one account's field, or to a network-wide total (account === null). */
export type Delta =
  | { account: string, field: AccountField, amount: bigint }
  | { account: null, field: GlobalField, amount: bigint }

/** Whether `dep` credits `accountKey` and with how much real and trial money. */
export function creditTo (dep: LedgerEvent, accountKey: string): { real: bigint, trial: bigint } | null {
  switch (dep.type) {
    case 'transfer': {
      const body = (dep as LedgerEvent<'transfer'>).body
      return keyOf(body.to) === accountKey ? { real: body.amount, trial: 0n } : null
    }
    case 'escrow': {
      const body = (dep as LedgerEvent<'escrow'>).body
      if (body.op !== 'charge' || keyOf(body.payee as Uint8Array) !== accountKey) return null
      return { real: body.amount - body.trial, trial: body.trial }
    }
    case 'slash': {
      const body = (dep as LedgerEvent<'slash'>).body
      const share = slashShares(body.amount, body.beneficiaries).shares.get(accountKey)
      return share === undefined || share === 0n ? null : { real: share, trial: 0n }
    }
    case 'settle': {
      let real = 0n
      let trial = 0n
      let found = false
      for (const item of (dep as LedgerEvent<'settle'>).body.items) {
        for (const [payee, amount, trialPart] of item.pay) {
          if (keyOf(payee) !== accountKey) continue
          found = true
          real += amount - trialPart
          trial += trialPart
        }
      }
      return found ? { real, trial } : null
    }
    default:
      return null
  }
}

function slashShares (amount: bigint, beneficiaries: readonly Uint8Array[]): { shares: Map<string, bigint>, burned: bigint } {
  return splitSlash(amount, beneficiaries.map(toKey))
}

/**
 * Proof of work for a trial grant: SHA-256('edge-net/trial/1' 0x00 networkId 0x00 author nonce)
 * must start with `difficulty` zero bits, so minting trial credits costs each identity ~2^d hashes.
 */
export function hasProofOfWork (networkId: string, author: Uint8Array, nonce: Uint8Array, difficulty: number): boolean {
  const digest = sha256(concatBytes(utf8('edge-net/trial/1'), new Uint8Array([0]), utf8(networkId), new Uint8Array([0]), author, nonce))
  let bits = difficulty
  for (let i = 0; bits > 0; i++) {
    const byte = digest[i] as number
    if (bits >= 8) {
      if (byte !== 0) return false
      bits -= 8
    } else {
      return (byte >> (8 - bits)) === 0
    }
  }
  return true
}

/**
 * Find a nonce that satisfies `hasProofOfWork` (for a new identity claiming trial credits).
 * @example const nonce = findProofOfWork('net', identity.publicKey, 8)
 */
export function findProofOfWork (networkId: string, author: Uint8Array, difficulty: number): Uint8Array {
  const nonce = new Uint8Array(8)
  const view = new DataView(nonce.buffer)
  for (let i = 0; ; i++) {
    view.setUint32(0, i % 0x1_0000_0000)
    view.setUint32(4, Math.floor(i / 0x1_0000_0000))
    if (hasProofOfWork(networkId, author, nonce, difficulty)) return nonce
  }
}

/**
 * The deltas of one event. Pure: the event alone decides them.
 * @example for (const d of eventDeltas(e, config)) views.add(d)
 */
export function eventDeltas (e: LedgerEvent, config: LedgerConfig): Delta[] {
  const a = e.authorKey
  switch (e.type) {
    case 'trial':
      return [{ account: a, field: 'trial', amount: config.trialCredits }, { account: null, field: 'minted', amount: config.trialCredits }]
    case 'transfer': {
      const { to, amount } = (e as LedgerEvent<'transfer'>).body
      const b = keyOf(to)
      return [
        { account: a, field: 'balance', amount: -amount },
        { account: a, field: 'spentPositive', amount },
        { account: b, field: 'balance', amount },
        { account: b, field: 'earned', amount }
      ]
    }
    case 'escrow': {
      const body = (e as LedgerEvent<'escrow'>).body
      const real = body.amount - body.trial
      if (body.op === 'reserve') {
        return [
          { account: a, field: 'balance', amount: -real },
          { account: a, field: 'trial', amount: -body.trial },
          { account: a, field: 'reserved', amount: body.amount },
          { account: a, field: 'spentPositive', amount: body.amount }
        ]
      }
      if (body.op === 'release') {
        return [
          { account: a, field: 'reserved', amount: -body.amount },
          { account: a, field: 'balance', amount: real },
          { account: a, field: 'trial', amount: body.trial },
          { account: a, field: 'spentNegative', amount: body.amount }
        ]
      }
      const p = keyOf(body.payee as Uint8Array)
      return [
        { account: a, field: 'reserved', amount: -body.amount },
        { account: p, field: 'balance', amount: real },
        { account: p, field: 'trial', amount: body.trial },
        { account: p, field: 'earned', amount: body.amount }
      ]
    }
    case 'settle': return settleDeltas(e as LedgerEvent<'settle'>)
    case 'reward': {
      const { cert, batch } = (e as LedgerEvent<'reward'>).body
      const amount = batch !== undefined
        ? applyMultiplier(batch.base, networkHours(batch.total), config.multiplier)
        : applyMultiplier(cert.base, cert.hours, config.multiplier)
      return [
        { account: a, field: 'balance', amount },
        { account: a, field: 'earned', amount },
        { account: null, field: 'minted', amount }
      ]
    }
    case 'stake':
    case 'unstake': {
      const { amount } = (e as LedgerEvent<'stake'>).body
      const sign = e.type === 'stake' ? 1n : -1n
      return [{ account: a, field: 'balance', amount: -sign * amount }, { account: a, field: 'staked', amount: sign * amount }]
    }
    case 'delegate':
    case 'undelegate': {
      const { to, amount } = (e as LedgerEvent<'delegate'>).body
      const sign = e.type === 'delegate' ? 1n : -1n
      return [
        { account: a, field: 'balance', amount: -sign * amount },
        { account: a, field: 'delegatedOut', amount: sign * amount },
        { account: toKey(to), field: 'delegatedIn', amount: sign * amount }
      ]
    }
    case 'slash': {
      const body = (e as LedgerEvent<'slash'>).body
      return slashDeltas(toKey(body.offender), body.amount, body.beneficiaries)
    }
    default:
      return []
  }
}

/** Deltas of a batch settlement: each payment moves reserved money to its payee, the rest comes back. */
function settleDeltas (e: LedgerEvent<'settle'>): Delta[] {
  const a = e.authorKey
  let reserved = 0n
  let released = 0n
  let releasedTrial = 0n
  const out: Delta[] = []
  for (const item of e.body.items) {
    for (const [payee, amount, trialPart] of item.pay) {
      const p = keyOf(payee)
      reserved += amount
      out.push({ account: p, field: 'balance', amount: amount - trialPart }, { account: p, field: 'trial', amount: trialPart }, { account: p, field: 'earned', amount })
    }
    reserved += item.release
    released += item.release
    releasedTrial += item.releaseTrial
  }
  out.push(
    { account: a, field: 'reserved', amount: -reserved },
    { account: a, field: 'balance', amount: released - releasedTrial },
    { account: a, field: 'trial', amount: releasedTrial },
    { account: a, field: 'spentNegative', amount: released }
  )
  return out
}

/** Deltas of a slash: the offender's stake goes to its honest co-workers, the rest is burned. */
export function slashDeltas (offender: string, amount: bigint, beneficiaries: readonly Uint8Array[]): Delta[] {
  const { shares, burned } = slashShares(amount, beneficiaries)
  const out: Delta[] = [
    { account: offender, field: 'staked', amount: -amount },
    { account: offender, field: 'slashed', amount }
  ]
  for (const [b, share] of shares) {
    if (share === 0n) continue
    out.push({ account: b, field: 'balance', amount: share }, { account: b, field: 'earned', amount: share })
  }
  if (burned > 0n) out.push({ account: null, field: 'burned', amount: burned })
  return out
}

/** Accounts an event touches besides its author (for history by member). */
export function counterparties (e: LedgerEvent): Uint8Array[] {
  switch (e.type) {
    case 'transfer': return [(e as LedgerEvent<'transfer'>).body.to]
    case 'escrow': { const p = (e as LedgerEvent<'escrow'>).body.payee; return p === undefined ? [] : [p] }
    case 'delegate': case 'undelegate': return [(e as LedgerEvent<'delegate'>).body.to]
    case 'slash': { const b = (e as LedgerEvent<'slash'>).body; return [b.offender, ...b.beneficiaries] }
    case 'reputation': return [(e as LedgerEvent<'reputation'>).body.subject]
    case 'settle': {
      // Each payee once (a worker of several tasks of the batch is one counterparty).
      const seen = new Map<string, Uint8Array>()
      for (const item of (e as LedgerEvent<'settle'>).body.items) for (const [payee] of item.pay) seen.set(keyOf(payee), payee)
      return [...seen.values()]
    }
    default: return []
  }
}
