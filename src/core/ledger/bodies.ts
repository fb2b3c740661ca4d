/**
 * The body of each event type: its fields, their types and limits. Bodies are closed maps (an
 * unknown key is refused), so an event's meaning is exactly what this file says.
 *
 * Money-moving bodies carry every figure their effect needs (for instance the part of an escrow
 * payment that is trial credit), so an event's effect on the derived views is a pure function of
 * the event itself; the chain rules (chain.ts) check those figures against the author's state.
 */
import { compareBytes } from '../bytes.ts'
import { LedgerError } from './errors.ts'
import { FieldReader, MAX_AMOUNT } from './schema.ts'
import type { CborValue } from '../codec/index.ts'
import { SLASH_REASONS } from '../economy/index.ts'
import type { SlashReason } from '../economy/index.ts'
import { OBSERVATION_KINDS } from '../reputation/index.ts'
import type { ObservationKind } from '../reputation/index.ts'

/** Types that move money or stake, and types the ledger carries for later layers. */
export const EVENT_TYPES = [
  'trial', 'transfer', 'escrow', 'reward', 'stake', 'unstake', 'delegate', 'undelegate', 'slash',
  'reputation', 'heartbeat', 'task', 'settle', 'proposal', 'vote', 'audit'
] as const
export type EventType = typeof EVENT_TYPES[number]

/** Types whose bodies the ledger stores and replicates but gives no economic effect yet. */
export const OPAQUE_TYPES = ['task', 'proposal', 'vote', 'audit'] as const
export const MAX_OPAQUE_BODY_KEYS = 32

/** A quorum signature: signer's public key and its Ed25519 signature. */
export type QuorumSignature = readonly [signer: Uint8Array, sig: Uint8Array]

/**
 * A settlement certificate: the submitter and a verifying quorum sign the same task id and result
 * digest. It prices the reward: `base` micro-credits times the contribution multiplier at
 * `hours` network compute-hours.
 */
export interface Certificate {
  task: Uint8Array
  result: Uint8Array
  base: bigint
  hours: number
  /** Workers whose results agreed, ascending. */
  workers: Uint8Array[]
  submitter: Uint8Array
  /** Signatures over the certificate statement, ascending by signer. */
  sigs: QuorumSignature[]
}

/**
 * Evidence for a slash: the offender's own signed claim about `task` (result digest `claim`, signed
 * as a `task-result` statement, so nobody can be slashed over a task it never worked on), and a
 * quorum's signatures that the right result was `digest`, not `claim`.
 */
export interface Attestation {
  task: Uint8Array
  digest: Uint8Array
  claim: Uint8Array
  claimSig: Uint8Array
  sigs: QuorumSignature[]
}

/**
 * A batch certificate: at least `quorum` distinct workers paid by the submitter's `settle` event
 * sign that event's id (`settlement-batch` statement), vouching for the results it lists. The
 * submitter's own signature is the settle event's. A worker's reward names the settle event in
 * deps and states its `base` (at most the real part of what that event paid it) and the event's
 * network-work `total`, which prices the multiplier (chain.ts checks both).
 */
export interface BatchCertificate {
  settle: Uint8Array
  base: bigint
  total: bigint
  /** Signatures over the batch statement, ascending by signer. */
  sigs: QuorumSignature[]
}

/** One payment of a settled task: payee, amount, and the part of it that is trial credit. */
export type SettlePayment = readonly [payee: Uint8Array, amount: bigint, trial: bigint]

/**
 * One task closed by a `settle` event: what each agreeing worker is paid from the task's escrow,
 * and what goes back to the submitter (with its trial part); together they empty the escrow.
 */
export interface SettleItem {
  task: Uint8Array
  /** SHA-256 of the accepted result. */
  result: Uint8Array
  pay: SettlePayment[]
  release: bigint
  releaseTrial: bigint
}

export type EscrowOp = 'reserve' | 'charge' | 'release'

/** The body of each event type. */
export interface BodyMap {
  trial: { nonce: Uint8Array }
  transfer: { to: Uint8Array, amount: bigint, memo?: string }
  escrow: { op: EscrowOp, task: Uint8Array, amount: bigint, trial: bigint, payee?: Uint8Array }
  /** Exactly one of `cert` (one task) or `batch` (one settle event's tasks). */
  reward: { cert: Certificate, batch?: undefined } | { batch: BatchCertificate, cert?: undefined }
  stake: { amount: bigint }
  unstake: { amount: bigint }
  delegate: { to: Uint8Array, amount: bigint }
  undelegate: { to: Uint8Array, amount: bigint }
  slash: { offender: Uint8Array, reason: SlashReason, amount: bigint, evidence: Attestation, beneficiaries: Uint8Array[] }
  /** `count` (default 1, at most MAX_OBSERVATION_COUNT): the same observation made that many times (one per task of a batch). */
  reputation: { subject: Uint8Array, kind: ObservationKind, task?: Uint8Array, count?: number }
  heartbeat: { uptime?: number }
  task: Record<string, unknown>
  /**
   * Batched settlement: closes several of the author's escrows at once. `total` is the network's
   * paid work so far in micro-credits (the sum of every payment of every settle event in this
   * event's causal past as its author names it): the reward multiplier's clock (chain.ts).
   */
  settle: { items: SettleItem[], total: bigint }
  proposal: Record<string, unknown>
  vote: Record<string, unknown>
  audit: Record<string, unknown>
}

export type BodyOf<T extends EventType> = BodyMap[T]

const MAX_QUORUM = 64
const MAX_WORKERS = 64
/** Most tasks one settle event closes (~200 bytes each at redundancy 3: well under the 64 KiB event cap). */
export const MAX_SETTLE_ITEMS = 200
/** Most payments per settled task (the largest redundancy is 9). */
export const MAX_SETTLE_PAYMENTS = 16
/** Most repetitions one reputation event stands for. */
export const MAX_OBSERVATION_COUNT = 1000

function quorumSignatures (r: FieldReader, key: string): QuorumSignature[] {
  const v = r.map[key]
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_QUORUM) throw r.fail(key, `must be a list of 1 to ${MAX_QUORUM} signatures`)
  const out: QuorumSignature[] = []
  let last: Uint8Array | null = null
  for (const item of v) {
    if (!Array.isArray(item) || item.length !== 2) throw r.fail(key, 'items must be [signer, signature]')
    const [signer, sig] = item
    if (!(signer instanceof Uint8Array) || signer.length !== 32 || !(sig instanceof Uint8Array) || sig.length !== 64) {
      throw r.fail(key, 'items must be [32-byte key, 64-byte signature]')
    }
    if (last !== null && compareBytes(last, signer) >= 0) throw r.fail(key, 'signers must be distinct and ascending')
    out.push([signer, sig])
    last = signer
  }
  return out
}

function parseCertificate (r: FieldReader): Certificate {
  r.only('task', 'result', 'base', 'hours', 'workers', 'submitter', 'sigs')
  return {
    task: r.bytes('task', 32),
    result: r.bytes('result', 32),
    base: r.amount('base'),
    hours: r.uint('hours'),
    workers: r.sortedIds('workers', 32, 1, MAX_WORKERS),
    submitter: r.bytes('submitter', 32),
    sigs: quorumSignatures(r, 'sigs')
  }
}

function parseBatchCertificate (r: FieldReader): BatchCertificate {
  r.only('settle', 'base', 'total', 'sigs')
  return { settle: r.bytes('settle', 32), base: r.amount('base'), total: r.amount('total'), sigs: quorumSignatures(r, 'sigs') }
}

function amountIn (v: CborValue | undefined, zero: boolean, fail: () => LedgerError): bigint {
  const n = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : typeof v === 'bigint' ? v : null
  if (n === null || n < (zero ? 0n : 1n) || n > MAX_AMOUNT) throw fail()
  return n
}

function parseSettleItems (r: FieldReader): SettleItem[] {
  const v = r.map['items']
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_SETTLE_ITEMS) throw r.fail('items', `must be a list of 1 to ${MAX_SETTLE_ITEMS} items`)
  const items: SettleItem[] = []
  for (let i = 0; i < v.length; i++) {
    const fail = (why: string): LedgerError => r.fail('items', `item ${i}: ${why}`)
    const item = v[i]
    if (!Array.isArray(item) || item.length !== 5) throw fail('must be [task, result, payments, release, releaseTrial]')
    const [task, result, pay, release, releaseTrial] = item
    if (!(task instanceof Uint8Array) || task.length !== 32 || !(result instanceof Uint8Array) || result.length !== 32) throw fail('task and result must be 32 bytes')
    if (!Array.isArray(pay) || pay.length > MAX_SETTLE_PAYMENTS) throw fail(`must list at most ${MAX_SETTLE_PAYMENTS} payments`)
    const payments: SettlePayment[] = []
    let last: Uint8Array | null = null
    for (const p of pay) {
      if (!Array.isArray(p) || p.length !== 3 || !(p[0] instanceof Uint8Array) || p[0].length !== 32) throw fail('payments must be [32-byte payee, amount, trial]')
      if (last !== null && compareBytes(last, p[0]) >= 0) throw fail('payees must be distinct and ascending')
      const amount = amountIn(p[1], false, () => new LedgerError('ERR_BAD_AMOUNT', `settle item ${i}: a payment must be a whole number of micro-credits in [1, ${MAX_AMOUNT}]`))
      const trial = amountIn(p[2], true, () => new LedgerError('ERR_BAD_AMOUNT', `settle item ${i}: a payment's trial part must be in [0, ${MAX_AMOUNT}]`))
      if (trial > amount) throw fail('a payment\'s trial part must not exceed it')
      payments.push([p[0], amount, trial])
      last = p[0]
    }
    const releaseAmount = amountIn(release, true, () => new LedgerError('ERR_BAD_AMOUNT', `settle item ${i}: release must be in [0, ${MAX_AMOUNT}]`))
    const releaseTrialAmount = amountIn(releaseTrial, true, () => new LedgerError('ERR_BAD_AMOUNT', `settle item ${i}: releaseTrial must be in [0, ${MAX_AMOUNT}]`))
    if (releaseTrialAmount > releaseAmount) throw fail('releaseTrial must not exceed release')
    items.push({ task, result, pay: payments, release: releaseAmount, releaseTrial: releaseTrialAmount })
  }
  return items
}

/** A settle body as the encoder wants it (items as arrays: ~40 % smaller than maps). @example encodeSettleBody(body) */
export function settleBodyValue (body: BodyOf<'settle'>): { items: CborValue[], total: bigint } {
  return { items: body.items.map(it => [it.task, it.result, it.pay.map(p => [p[0], p[1], p[2]]), it.release, it.releaseTrial]), total: body.total }
}

function parseAttestation (r: FieldReader): Attestation {
  r.only('task', 'digest', 'claim', 'claimSig', 'sigs')
  return { task: r.bytes('task', 32), digest: r.bytes('digest', 32), claim: r.bytes('claim', 32), claimSig: r.bytes('claimSig', 64), sigs: quorumSignatures(r, 'sigs') }
}

/**
 * Parse and check one body against its type's schema.
 * @example parseBody('stake', new FieldReader({ amount: 5 }, 'stake')) // { amount: 5n }
 */
export function parseBody (type: string, r: FieldReader): BodyOf<EventType> {
  switch (type) {
    case 'trial': {
      r.only('nonce')
      const nonce = r.bytes('nonce')
      if (nonce.length > 32) throw r.fail('nonce', 'must be at most 32 bytes')
      return { nonce }
    }
    case 'transfer': {
      r.only('to', 'amount', 'memo')
      const body: BodyOf<'transfer'> = { to: r.bytes('to', 32), amount: r.amount('amount') }
      if (r.has('memo')) body.memo = r.text('memo', 256)
      return body
    }
    case 'escrow': {
      const op = r.oneOf('op', ['reserve', 'charge', 'release'] as const)
      r.only('op', 'task', 'amount', 'trial', ...(op === 'charge' ? ['payee'] : []))
      const body: BodyOf<'escrow'> = { op, task: r.bytes('task', 32), amount: r.amount('amount'), trial: r.amountOrZero('trial') }
      if (body.trial > body.amount) throw r.fail('trial', 'must not exceed amount')
      if (op === 'charge') body.payee = r.bytes('payee', 32)
      return body
    }
    case 'reward':
      if (r.has('batch')) {
        r.only('batch')
        return { batch: parseBatchCertificate(new FieldReader(r.map['batch'], 'reward.batch')) }
      }
      r.only('cert')
      return { cert: parseCertificate(new FieldReader(r.map['cert'], 'reward.cert')) }
    case 'settle':
      r.only('items', 'total')
      return { items: parseSettleItems(r), total: r.amountOrZero('total') }
    case 'stake':
    case 'unstake':
      r.only('amount')
      return { amount: r.amount('amount') }
    case 'delegate':
    case 'undelegate':
      r.only('to', 'amount')
      return { to: r.bytes('to', 32), amount: r.amount('amount') }
    case 'slash':
      r.only('offender', 'reason', 'amount', 'evidence', 'beneficiaries')
      return {
        offender: r.bytes('offender', 32),
        reason: r.oneOf('reason', SLASH_REASONS),
        amount: r.amount('amount'),
        evidence: parseAttestation(new FieldReader(r.map['evidence'], 'slash.evidence')),
        beneficiaries: r.sortedIds('beneficiaries', 32, 0, MAX_QUORUM)
      }
    case 'reputation': {
      r.only('subject', 'kind', 'task', 'count')
      const body: BodyOf<'reputation'> = { subject: r.bytes('subject', 32), kind: r.oneOf('kind', OBSERVATION_KINDS) }
      if (r.has('task')) body.task = r.bytes('task', 32)
      if (r.has('count')) {
        // 1 is the default and is written by leaving the field out (one encoding per meaning).
        const count = r.uint('count', MAX_OBSERVATION_COUNT)
        if (count < 2) throw r.fail('count', 'must be at least 2 (leave it out for 1)')
        body.count = count
      }
      return body
    }
    case 'heartbeat': {
      r.only('uptime')
      const body: BodyOf<'heartbeat'> = {}
      if (r.has('uptime')) body.uptime = r.uint('uptime')
      return body
    }
    case 'task':
    case 'proposal':
    case 'vote':
    case 'audit':
      if (Object.keys(r.map).length > MAX_OPAQUE_BODY_KEYS) throw new LedgerError('ERR_BAD_BODY', `${type} body has more than ${MAX_OPAQUE_BODY_KEYS} fields`)
      return r.map
    default:
      throw new LedgerError('ERR_UNKNOWN_EVENT_TYPE', `unknown event type '${type}'`)
  }
}
