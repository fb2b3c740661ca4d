/**
 * Derived views over the effective events: per-account money fields, network totals, reputation
 * observation counts and last-seen times. Updated incrementally, one event's deltas at a time,
 * never by replaying the log; an event is taken back by applying its deltas with sign -1.
 */
import type { AccountField, Delta } from './effects.ts'
import { ACCOUNT_FIELDS } from './effects.ts'
import { OBSERVATION_KINDS } from '../reputation/index.ts'
import type { ObservationKind } from '../reputation/index.ts'

export type AccountFields = Record<AccountField, bigint>

/** A fresh all-zero account. */
export function zeroFields (): AccountFields {
  const out = {} as AccountFields
  for (const f of ACCOUNT_FIELDS) out[f] = 0n
  return out
}

export class Views {
  readonly accounts = new Map<string, AccountFields>()
  minted = 0n
  burned = 0n
  /** subject -> observer -> count per kind, in OBSERVATION_KINDS order (effective observations only). */
  readonly observations = new Map<string, Map<string, Int32Array>>()
  /** author -> latest event time seen (heartbeats and every other event). */
  readonly lastSeen = new Map<string, number>()

  fields (account: string): AccountFields {
    let f = this.accounts.get(account)
    if (f === undefined) this.accounts.set(account, f = zeroFields())
    return f
  }

  /** Apply deltas (sign 1n) or take them back (sign -1n). */
  apply (deltas: readonly Delta[], sign: 1n | -1n): void {
    for (let i = 0; i < deltas.length; i++) {
      const d = deltas[i] as Delta
      // Adding is the common case (taking back only follows an equivocation): no multiply then.
      const amount = sign === 1n ? d.amount : -d.amount
      if (d.account === null) {
        if (d.field === 'minted') this.minted += amount
        else this.burned += amount
      } else {
        const f = this.fields(d.account)
        f[d.field] += amount
      }
    }
  }

  observe (subject: string, observer: string, kind: ObservationKind, by: number): void {
    let bySubject = this.observations.get(subject)
    if (bySubject === undefined) this.observations.set(subject, bySubject = new Map())
    let counts = bySubject.get(observer)
    if (counts === undefined) bySubject.set(observer, counts = new Int32Array(OBSERVATION_KINDS.length))
    const k = OBSERVATION_KINDS.indexOf(kind)
    counts[k] = (counts[k] as number) + by
    let empty = true
    for (let i = 0; i < counts.length; i++) if (counts[i] !== 0) { empty = false; break }
    if (empty) bySubject.delete(observer)
    if (bySubject.size === 0) this.observations.delete(subject)
  }

  seen (author: string, time: number): void {
    if (time > (this.lastSeen.get(author) ?? -1)) this.lastSeen.set(author, time)
  }

  /**
   * Conservation: money held in accounts (liquid, trial, reserved, staked, delegated) plus what
   * was burned equals what was minted. Returns the difference (0n when the law holds).
   */
  conservationGap (): bigint {
    let held = 0n
    for (const f of this.accounts.values()) held += f.balance + f.trial + f.reserved + f.staked + f.delegatedOut
    return held + this.burned - this.minted
  }
}
