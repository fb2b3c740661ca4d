/**
 * One identity's account over the ledger, with seed 002's API (canAfford, reserve, charge,
 * release, credit, toJSON/fromJSON) and seed 000's stake verbs. Every verb appends a signed event
 * to the ledger, so it replicates; nothing here holds money itself.
 */
import { nodeIdFromPublicKey } from '../identity/index.ts'
import type { SlashReason } from '../economy/index.ts'
import type { ObservationKind } from '../reputation/index.ts'
import type { Clock } from '../../ports.ts'
import type { Attestation, BodyOf } from './bodies.ts'
import { findProofOfWork } from './effects.ts'
import type { LedgerEvent } from './event.ts'
import type { AccountView, Ledger, Signer } from './ledger.ts'
import { ACCOUNT_FIELDS } from './effects.ts'
import { LedgerError } from './errors.ts'

export interface AccountInit { ledger: Ledger, signer: Signer, clock: Clock }

/** The JSON form of an account view: amounts as decimal strings of micro-credits. */
export type AccountJSON = { id: string, equivocated: boolean, lastSeen: number | null } & Record<typeof ACCOUNT_FIELDS[number] | 'effectiveStake' | 'spent', string>

export class Account {
  readonly ledger: Ledger
  readonly signer: Signer
  private readonly clock: Clock

  constructor (init: AccountInit) {
    this.ledger = init.ledger
    this.signer = init.signer
    this.clock = init.clock
  }

  get publicKey (): Uint8Array { return this.signer.publicKey }

  /** The derived view (what every replica with the same events agrees on). */
  view (): AccountView { return this.ledger.account(this.signer.publicKey) }

  /** Real credits the chain can move now (acknowledged, unlocked). */
  spendable (): bigint { return this.ledger.chainState(this.signer.publicKey)?.balance ?? 0n }

  /** Trial credits the chain can spend on tasks now. */
  trial (): bigint { return this.ledger.chainState(this.signer.publicKey)?.trial ?? 0n }

  /** Whether a task costing `amount` can be reserved now (trial credits count). @example account.canAfford(credits(2)) */
  canAfford (amount: bigint): boolean {
    let incoming = 0n
    for (const c of this.ledger.incomingCredits(this.signer.publicKey)) incoming += c.real + c.trial
    return amount > 0n && amount <= this.spendable() + this.trial() + incoming
  }

  /** Claim this identity's trial credits (once; costs 2^difficulty hashes of proof of work). */
  async claimTrial (): Promise<LedgerEvent<'trial'>> {
    const nonce = findProofOfWork(this.ledger.config.networkId, this.signer.publicKey, this.ledger.config.trialDifficulty)
    return this.append('trial', { nonce })
  }

  /** Escrow `amount` for a task (trial credits first). @example await account.reserve(taskId, credits(3)) */
  async reserve (task: Uint8Array, amount: bigint): Promise<LedgerEvent<'escrow'>> {
    return this.append('escrow', this.ledger.escrowBody(this.signer.publicKey, 'reserve', task, amount))
  }

  /** Pay `payee` from a task's escrow. */
  async charge (task: Uint8Array, payee: Uint8Array, amount: bigint): Promise<LedgerEvent<'escrow'>> {
    return this.append('escrow', this.ledger.escrowBody(this.signer.publicKey, 'charge', task, amount, payee))
  }

  /** Return what is left of a task's escrow. */
  async release (task: Uint8Array, amount: bigint): Promise<LedgerEvent<'escrow'>> {
    return this.append('escrow', this.ledger.escrowBody(this.signer.publicKey, 'release', task, amount))
  }

  /**
   * Count every credit others sent this account into its spendable balance: appends a heartbeat
   * that names them in `deps` (each credit counts once). Returns the amount credited.
   */
  async credit (): Promise<bigint> {
    const before = this.spendable() + this.trial()
    if (this.ledger.unacknowledgedCredits(this.signer.publicKey).length === 0) return 0n
    await this.append('heartbeat', {})
    return this.spendable() + this.trial() - before
  }

  async transfer (to: Uint8Array, amount: bigint, memo?: string): Promise<LedgerEvent<'transfer'>> {
    return this.append('transfer', memo === undefined ? { to, amount } : { to, amount, memo })
  }

  async stake (amount: bigint): Promise<LedgerEvent<'stake'>> { return this.append('stake', { amount }) }
  async unstake (amount: bigint): Promise<LedgerEvent<'unstake'>> { return this.append('unstake', { amount }) }
  async delegate (to: Uint8Array, amount: bigint): Promise<LedgerEvent<'delegate'>> { return this.append('delegate', { to, amount }) }
  async undelegate (to: Uint8Array, amount: bigint): Promise<LedgerEvent<'undelegate'>> { return this.append('undelegate', { to, amount }) }

  /** Whether own plus delegated stake reaches the network's minimum. */
  meetsMinimumStake (): boolean { return this.view().effectiveStake >= this.ledger.config.minStake }

  /**
   * Slash `offender` with a quorum's attestation; `offenderEvent` (an event of the offender's
   * chain) fixes the stake the cap is computed from.
   */
  async slash (offender: Uint8Array, reason: SlashReason, amount: bigint, evidence: Attestation, beneficiaries: Uint8Array[], offenderEvent: Uint8Array): Promise<LedgerEvent<'slash'>> {
    return this.append('slash', { offender, reason, amount, evidence, beneficiaries }, [offenderEvent])
  }

  /**
   * Sign an observation about another node; `count` > 1 stands for that many (one per task of a batch).
   * @example await account.observe(worker, 'task_verified', undefined, 12)
   */
  async observe (subject: Uint8Array, kind: ObservationKind, task?: Uint8Array, count = 1): Promise<LedgerEvent<'reputation'>> {
    const body: BodyOf<'reputation'> = { subject, kind }
    if (task !== undefined) body.task = task
    if (count !== 1) body.count = count
    return this.append('reputation', body)
  }

  /**
   * Settle several tasks at once: `tasks` lists each task's accepted result digest and what each
   * worker is paid from its escrow; the rest of each escrow comes back. One signed event for the
   * whole batch; it names the network's work frontier so its reward multiplier follows the
   * network's hours (chain.ts).
   * @example const e = await account.settle([{ task, result: sha256(output), payments: [[worker, price]] }])
   */
  async settle (tasks: ReadonlyArray<{ task: Uint8Array, result: Uint8Array, payments: ReadonlyArray<readonly [Uint8Array, bigint]> }>): Promise<LedgerEvent<'settle'>> {
    const items = tasks.map(t => this.ledger.settleItem(this.signer.publicKey, t.task, t.result, t.payments))
    const frontier = this.ledger.workFrontier()
    // The ledger fills in `total` when it appends (it depends on the deps the event ends up naming).
    return this.append('settle', { items, total: 0n }, frontier === null ? [] : [frontier.id])
  }

  async heartbeat (uptime?: number): Promise<LedgerEvent<'heartbeat'>> {
    return this.append('heartbeat', uptime === undefined ? {} : { uptime })
  }

  /** The view as JSON (amounts as strings, so no precision is lost). */
  toJSON (): AccountJSON { return accountToJSON(this.signer.publicKey, this.view()) }

  private async append<T extends Parameters<Ledger['append']>[1]> (type: T, body: Parameters<Ledger['append']>[2] & object, deps: Uint8Array[] = []): Promise<LedgerEvent<T>> {
    const now = this.clock.now()
    return this.ledger.append(this.signer, type, body as never, { time: now, now, deps }) as Promise<LedgerEvent<T>>
  }
}

/** @example const json = accountToJSON(pk, ledger.account(pk)) */
export function accountToJSON (publicKey: Uint8Array, view: AccountView): AccountJSON {
  const out: Record<string, unknown> = { id: nodeIdFromPublicKey(publicKey), equivocated: view.equivocated, lastSeen: view.lastSeen }
  for (const f of [...ACCOUNT_FIELDS, 'effectiveStake', 'spent'] as const) out[f] = view[f].toString()
  return out as AccountJSON
}

/**
 * Parse an account's JSON back into a view. Throws LedgerError ERR_BAD_ACCOUNT_JSON for anything
 * `accountToJSON` could not have produced.
 * @example accountFromJSON(accountToJSON(pk, view)) // deep-equals { id, view }
 */
export function accountFromJSON (json: unknown): { id: string, view: AccountView } {
  const fail = (why: string): never => { throw new LedgerError('ERR_BAD_ACCOUNT_JSON', `account JSON: ${why}`) }
  if (typeof json !== 'object' || json === null) return fail('not an object')
  const j = json as Record<string, unknown>
  const keys = ['id', 'equivocated', 'lastSeen', ...ACCOUNT_FIELDS, 'effectiveStake', 'spent']
  for (const k of Object.keys(j)) if (!keys.includes(k)) fail(`unknown field ${k}`)
  if (typeof j.id !== 'string') fail('id must be a node id string')
  if (typeof j.equivocated !== 'boolean') fail('equivocated must be a boolean')
  if (j.lastSeen !== null && (typeof j.lastSeen !== 'number' || !Number.isSafeInteger(j.lastSeen))) fail('lastSeen must be an integer or null')
  const view: Record<string, unknown> = { equivocated: j.equivocated, lastSeen: j.lastSeen }
  for (const f of [...ACCOUNT_FIELDS, 'effectiveStake', 'spent']) {
    const v = j[f]
    if (typeof v !== 'string' || !/^-?(0|[1-9]\d{0,30})$/.test(v)) fail(`${f} must be a decimal integer string`)
    view[f] = BigInt(v as string)
  }
  return { id: j.id as string, view: view as unknown as AccountView }
}
