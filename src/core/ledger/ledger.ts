/**
 * The ledger: a grow-only set of signed events (a G-Set CRDT) with derived views.
 *
 * Laws (test/core/ledger/*.test.ts prove them):
 * - The set is the union of what any replica was given; merge is set union, so it is
 *   commutative, associative and idempotent, and the Merkle state root names the set.
 * - An event belongs to the set iff it is valid given its causal past (its `prev` chain and
 *   `deps`), which every replica that holds it sees alike. So replicas that hold the same events
 *   hold the same set, whatever the arrival order.
 * - The views are the sum of the deltas (effects.ts) of the *effective* events. An event is
 *   effective unless its author equivocated (two events at one seq) at or below its seq: then
 *   both conflicting events and every later event of that author are void, kept only as proof,
 *   and the author is slashed for DoubleSpend (derived from the proof, so every replica applies
 *   the same slash without anyone having to author it).
 *
 * What a replica cannot do without consensus, and how it is bounded: a recipient that spent a
 * credit from an event later voided keeps its spend, so its derived balance shows the shortfall
 * (a debt); the equivocator itself can never end up having spent more than it had, since none of
 * its events from the fork on count.
 */
import { compareBytes, equalBytes, fromKey, toHex, toKey } from '../bytes.ts'
import { EdgeNetError } from '../errors.ts'
import { slashAmount } from '../economy/index.ts'
import type { EventStore, StoredEvent } from '../../ports.ts'
import { EventArena } from './arena.ts'
import { IdIndex } from './id-index.ts'
import { ChainState, advanceChain, workBefore } from './chain.ts'
import type { ChainContext } from './chain.ts'
import { ledgerConfig } from './config.ts'
import type { LedgerConfig } from './config.ts'
import { ACCOUNT_FIELDS, counterparties, creditTo, eventDeltas, slashDeltas } from './effects.ts'
import { LedgerError } from './errors.ts'
import { MAX_DEPS, decodeEvent, decodeKnownEvent, isVerified, keyOf, rememberVerified, signEvent, verifyEvent } from './event.ts'
import { Identity, verifyEd25519 } from '../identity/index.ts'
import type { LedgerEvent, UnsignedEvent } from './event.ts'
import type { BodyOf, EventType, SettleItem, SettlePayment } from './bodies.ts'
import { verifyAttestation, verifyBatchSignatures, verifyCertificate } from './certificate.ts'
import { MerkleSet } from './merkle.ts'
import { PendingPool } from './pending.ts'
import { reputationOf } from './reputation-view.ts'
import { OBSERVATION_KINDS } from '../reputation/index.ts'
import type { ObservationKind } from '../reputation/index.ts'
import type { ReputationOptions, ReputationView } from './reputation-view.ts'
import { Views, zeroFields } from './views.ts'
import type { AccountFields } from './views.ts'

interface AuthorRecord {
  key: string
  /** Position in `authorList`. */
  index: number
  /** Event indexes of the first chain seen, by seq - 1. */
  main: number[]
  /** State after the last event of `main`. */
  head: ChainState
  /** Lowest seq holding two different events; Infinity while the author is honest. */
  forkSeq: number
  /** States after events off the main chain that later events may extend. */
  branchHeads: Map<string, ChainState>
  /** The DoubleSpend slash currently applied for this author's equivocation. */
  derivedSlash: bigint
}

/** What one `ingest` call did. */
export interface IngestResult {
  /** Ids applied by this call (including waiting events it released), in order. */
  applied: Uint8Array[]
  /** Inputs already in the set or already waiting. */
  duplicates: number
  /** Inputs parked in the pending pool for a missing dependency. */
  pending: number
  /** Inputs refused; `index` is the input position, or -1 for a released pending event. */
  rejected: Array<{ index: number, id: Uint8Array | null, error: EdgeNetError }>
}

/** A read-only account view. Amounts are micro-credits. */
export interface AccountView extends AccountFields {
  /** Own stake plus stake delegated to this account. */
  effectiveStake: bigint
  /** Net spent: the PN-counter's positive minus negative part. */
  spent: bigint
  lastSeen: number | null
  /** The account signed two different events at one position. */
  equivocated: boolean
}

export interface LedgerInit {
  config: Partial<LedgerConfig> & { networkId: string }
  store?: EventStore
}

export interface IngestOptions {
  /** Local clock, for refusing events dated too far in the future. */
  now?: number
}

export interface AppendOptions {
  /** Extra dependencies; credits to the author not yet acknowledged are added automatically. */
  deps?: readonly Uint8Array[]
  time?: number
  now?: number
}

export interface Signer {
  readonly publicKey: Uint8Array
  sign (message: Uint8Array): Promise<Uint8Array>
}

const DECODE_CACHE = 256
/**
 * Credit summaries of recently applied events, so that the chain rules can count an acknowledged
 * credit without decoding its event again (a recipient usually names a credit soon after it was
 * sent). ~150 bytes each: ~0.6 MiB in all.
 */
const CREDIT_CACHE = 4096

/** What an applied event credits, and to whom (`to` is '' when it credits no one). */
interface CreditSummary { readonly to: string, readonly real: bigint, readonly trial: bigint }
const NO_CREDIT: CreditSummary = { to: '', real: 0n, trial: 0n }

export class Ledger {
  readonly config: LedgerConfig
  private readonly store: EventStore | null
  private readonly arena = new EventArena()
  private readonly index = new IdIndex()
  private eventAuthor = new Int32Array(1024)
  private eventSeq = new Uint32Array(1024)
  private eventTime = new Float64Array(1024)
  /** Index of the latest stake-changing event along each event's own chain, or -1. */
  private lastStake = new Int32Array(1024)
  private readonly stakedAfter = new Map<number, bigint>()
  private readonly authors = new Map<string, AuthorRecord>()
  private readonly authorList: AuthorRecord[] = []
  private readonly views = new Views()
  private readonly merkle = new MerkleSet()
  private readonly pending: PendingPool
  private readonly slashGroups = new Map<string, number[]>()
  private readonly slashEffective = new Map<string, number>()
  private readonly byMember = new Map<string, number[]>()
  /** Indexes of credit events by recipient (transfers, escrow payments, slash shares). */
  private readonly creditsTo = new Map<string, number[]>()
  private readonly decoded = new Map<number, LedgerEvent>()
  private readonly credits = new Map<number, CreditSummary>()
  /** The indexes in `credits`, oldest first from `creditNext` (a ring: eviction is O(1)). */
  private readonly creditRing = new Int32Array(CREDIT_CACHE).fill(-1)
  private creditNext = 0
  private timeOrder: number[] | null = null
  /** The applied settle event with the largest network-work total (a hint for the next settlement's deps). */
  private frontier: { total: bigint, index: number } | null = null
  private maxTime = 0
  private failure: Error | null = null
  private closed = false
  private readonly ctx: ChainContext
  private readonly genesis = new Map<string, bigint>()
  private readonly appending = new Map<string, Promise<unknown>>()
  private readonly appendListeners = new Set<(e: LedgerEvent) => void>()

  private constructor (init: LedgerInit) {
    this.config = ledgerConfig(init.config)
    for (const { account, amount } of this.config.genesis) {
      if (account.length !== 32 || amount <= 0n) throw new LedgerError('ERR_BAD_AMOUNT', 'genesis entries need a 32-byte account and a positive amount')
      const key = toKey(account)
      this.genesis.set(key, (this.genesis.get(key) ?? 0n) + amount)
      this.views.apply([{ account: key, field: 'balance', amount }, { account: key, field: 'earned', amount }, { account: null, field: 'minted', amount }], 1n)
    }
    this.store = init.store ?? null
    this.pending = new PendingPool(this.config.maxPending)
    this.ctx = {
      config: this.config,
      dep: (key) => this.decodeAt(this.index.getKey(key)),
      indexOf: (key) => this.index.getKey(key),
      timeOf: (index) => this.eventTime[index] as number,
      creditOf: (index, accountKey) => this.creditOf(index, accountKey),
      stakedAt: (event) => this.stakedAtIndex(this.index.getKey(event.key))
    }
  }

  /** A ledger held in memory only (tests, simulations, scratch merges). @example Ledger.create({ config: { networkId: 'test' } }) */
  static create (init: Omit<LedgerInit, 'store'>): Ledger {
    return new Ledger(init)
  }

  /**
   * Open a ledger over a store, replaying what it holds. Stored events were validated before they
   * were written, so their signatures are not checked again; every chain rule is.
   * @example const ledger = await Ledger.open({ config: { networkId: 'main' }, store })
   */
  static async open (init: LedgerInit & { store: EventStore }): Promise<Ledger> {
    const ledger = new Ledger(init)
    let batch: LedgerEvent[] = []
    const flush = (): void => {
      for (const e of batch) {
        try {
          ledger.admit(e, null, null, -1)
        } catch (err) {
          // Only a store written under other rules (another version or network config) gets here.
          throw new LedgerError('ERR_STORE_FAILED', `stored event ${toHex(e.id)} does not validate under this ledger's rules: ${(err as Error).message}`, { cause: err })
        }
      }
      batch = []
    }
    for await (const { bytes } of init.store.scan()) {
      batch.push(decodeEvent(ledger.config.networkId, bytes))
      if (batch.length >= 1024) flush()
    }
    flush()
    return ledger
  }

  /** Number of events in the set (void ones included). */
  get size (): number { return this.arena.size }

  /** The latest event time in the set (0 when empty). */
  get latestTime (): number { return this.maxTime }

  /** Number of events waiting for a dependency. */
  get pendingCount (): number { return this.pending.size }

  has (id: Uint8Array): boolean { return id.length === 32 && this.index.get(id) !== -1 }

  /** The encoding of an event in the set. */
  get (id: Uint8Array): Uint8Array | undefined {
    const i = id.length === 32 ? this.index.get(id) : -1
    return i === -1 ? undefined : this.arena.get(i).slice()
  }

  /** The decoded event with this id. */
  event (id: Uint8Array): LedgerEvent | undefined {
    const i = id.length === 32 ? this.index.get(id) : -1
    return i === -1 ? undefined : this.decodeAt(i)
  }

  /** Merkle root over the ids of the set: equal roots, equal sets. */
  stateRoot (): Uint8Array { return this.merkle.root() }
  stateRootHex (): string { return toHex(this.merkle.root()) }
  /** The Merkle set, for range sync (sync.ts). Do not add to it. */
  get merkleSet (): MerkleSet { return this.merkle }

  /**
   * Decode, verify and apply events. Each input is judged alone: a refused one changes nothing,
   * the others proceed. With a store, the call resolves once every applied event is durable.
   * @example const { applied, rejected } = await ledger.ingest(bytesFromPeer)
   */
  async ingest (input: Uint8Array | readonly Uint8Array[], options: IngestOptions = {}): Promise<IngestResult> {
    this.assertUsable()
    const list = input instanceof Uint8Array ? [input] : input
    const result: IngestResult = { applied: [], duplicates: 0, pending: 0, rejected: [] }
    // Decode each input and start verifying it at once: WebCrypto verifies on worker threads, so
    // the main thread decodes (and later applies) while earlier signatures are being checked.
    // A check is WebCrypto's own promise for the common event (true: verified), or for events
    // that carry evidence the ledger's full check (an error, or null when all is well).
    const events: Array<LedgerEvent | null> = new Array<LedgerEvent | null>(list.length)
    const checks: Array<Promise<boolean | EdgeNetError | null> | null> = new Array<Promise<boolean | EdgeNetError | null> | null>(list.length)
    for (let i = 0; i < list.length; i++) {
      let e: LedgerEvent | null = null
      try {
        e = decodeEvent(this.config.networkId, list[i] as Uint8Array)
      } catch (err) {
        result.rejected.push({ index: i, id: null, error: asEdgeNetError(err) })
      }
      const fresh = e !== null && this.index.getKey(e.key) === -1 && !this.pending.has(e.key)
      events[i] = fresh ? e : null
      checks[i] = fresh ? this.startVerify(e as LedgerEvent) : null
      if (e !== null && !fresh) result.duplicates++
    }
    const toStore: StoredEvent[] | null = this.store === null ? null : []
    for (let i = 0; i < events.length; i++) {
      const e = events[i]
      if (e === null || e === undefined) continue
      const check = await checks[i]
      if (this.index.getKey(e.key) !== -1 || this.pending.has(e.key)) { result.duplicates++; continue }
      if (check === true) {
        rememberVerified(e)
      } else if (check === false) {
        result.rejected.push({ index: i, id: e.id, error: new LedgerError('ERR_BAD_SIGNATURE', 'event signature does not verify') })
        continue
      } else if (check !== null && check !== undefined) {
        result.rejected.push({ index: i, id: e.id, error: check })
        continue
      }
      if (options.now !== undefined && e.time > options.now + this.config.maxFutureSkewMs) {
        result.rejected.push({ index: i, id: e.id, error: new LedgerError('ERR_FUTURE_EVENT', `event is dated ${e.time - options.now} ms in the future`) })
        continue
      }
      this.admit(e, toStore, result, i)
    }
    if (this.store !== null && toStore !== null && toStore.length > 0) {
      try {
        await this.store.append(toStore)
      } catch (err) {
        // Memory is ahead of the store now; refuse further work until reopened (replay restores
        // exactly what was durable).
        this.failure = err as Error
        throw new LedgerError('ERR_STORE_FAILED', `could not persist events: ${(err as Error).message}`, { cause: err })
      }
    }
    return result
  }

  /**
   * Author, sign and apply the next event of `signer`'s chain. Credits to the signer that its
   * chain has not acknowledged yet are named in `deps` automatically, so they become spendable.
   * Throws the LedgerError that refused it; nothing changes then.
   * @example await ledger.append(identity, 'transfer', { to: other.publicKey, amount: credits(5) })
   */
  async append<T extends EventType> (signer: Signer, type: T, body: BodyOf<T>, options: AppendOptions = {}): Promise<LedgerEvent<T>> {
    // One author's appends run one at a time: two in flight would both take the next seq, and
    // two events at one seq are an equivocation (slashed), however innocent the caller.
    const key = toKey(signer.publicKey)
    const before = this.appending.get(key) ?? Promise.resolve()
    const run = before.catch(() => {}).then(async () => await this.appendNow(signer, type, body, options))
    this.appending.set(key, run)
    try {
      return await run
    } finally {
      if (this.appending.get(key) === run) this.appending.delete(key)
    }
  }

  private async appendNow<T extends EventType> (signer: Signer, type: T, body: BodyOf<T>, options: AppendOptions): Promise<LedgerEvent<T>> {
    this.assertUsable()
    const rec = this.authors.get(toKey(signer.publicKey))
    const deps = new Map<string, Uint8Array>()
    for (const d of options.deps ?? []) deps.set(toKey(d), d)
    for (const d of this.unacknowledgedCredits(signer.publicKey)) {
      if (deps.size >= MAX_DEPS) break
      deps.set(toKey(d), d)
    }
    for (const [key] of deps) {
      // Sign nothing that would have to wait: a parked event could later collide with a retry at
      // the same seq and make an honest author look like an equivocator.
      if (this.index.getKey(key) === -1) throw new LedgerError('ERR_CHAIN_BROKEN', 'a dependency is not in this ledger yet; nothing was signed')
    }
    let time = options.time ?? options.now ?? 0
    if (rec !== undefined) time = Math.max(time, rec.head.time)
    for (const [key] of deps) {
      const i = this.index.getKey(key)
      if (i !== -1) time = Math.max(time, this.eventTime[i] as number)
    }
    if (type === 'settle') body = this.withWorkTotal(rec?.head, body as BodyOf<'settle'>, deps) as BodyOf<T>
    const last = rec?.main[rec.main.length - 1]
    const unsigned: UnsignedEvent<T> = {
      type,
      author: signer.publicKey,
      seq: (rec?.main.length ?? 0) + 1,
      prev: last === undefined ? null : this.idAt(last),
      deps: [...deps.values()].sort(compareBytes),
      time,
      body
    }
    const e = await signEvent(this.config.networkId, signer, unsigned)
    // An Identity's public key is bound to its private key (generated together, or checked on
    // import), so its own fresh signature needs no second check. Any other Signer is verified.
    if (signer instanceof Identity) rememberVerified(e)
    const result = await this.ingest(e.bytes, options.now === undefined ? {} : { now: options.now })
    const refusal = result.rejected[0]
    if (refusal !== undefined) throw refusal.error
    if (this.index.getKey(e.key) === -1) throw new LedgerError('ERR_CHAIN_BROKEN', 'event is waiting for a dependency this ledger does not hold')
    for (const listener of this.appendListeners) {
      try { listener(e) } catch { /* a listener's failure is its own; the event is applied */ }
    }
    return e
  }

  /**
   * Call `listener` with every event this replica authors through `append`, once it is applied
   * (a network layer gossips them). Returns a function that removes the listener.
   * @example const off = ledger.onAppend(e => sync.announce(e))
   */
  onAppend (listener: (e: LedgerEvent) => void): () => void {
    this.appendListeners.add(listener)
    return () => { this.appendListeners.delete(listener) }
  }

  /** Credit events to `author` that its main chain has not acknowledged yet (oldest first). */
  unacknowledgedCredits (author: Uint8Array): Uint8Array[] {
    return this.openCredits(toKey(author)).map(i => this.idAt(i))
  }

  /** Credits others sent `author` that its chain has not counted yet, with their amounts. */
  incomingCredits (author: Uint8Array): Array<{ id: Uint8Array, real: bigint, trial: bigint }> {
    const key = toKey(author)
    const out: Array<{ id: Uint8Array, real: bigint, trial: bigint }> = []
    for (const i of this.openCredits(key)) {
      const credit = creditTo(this.decodeAt(i), key)
      if (credit !== null) out.push({ id: this.idAt(i), ...credit })
    }
    return out
  }

  /**
   * Indexes of effective credit events to `key` its main chain has not acknowledged. Acknowledged
   * ones are dropped from the list for good: the main chain's acknowledgements only grow.
   */
  private openCredits (key: string): number[] {
    const list = this.creditsTo.get(key)
    if (list === undefined) return []
    const acked = this.authors.get(key)?.head.acked
    if (acked !== undefined) {
      let w = 0
      for (const i of list) if (!acked.has(i)) list[w++] = i
      list.length = w
    }
    return list.filter(i => !this.isVoid(i))
  }

  /**
   * One task of a batch settlement, with the trial splits the chain rules require (trial credit is
   * paid out first, then the rest is released): pays `payments` from the author's open escrow for
   * `task` and releases what is left. Throws ERR_NO_ESCROW when the author has no such escrow and
   * ERR_OVERDRAFT when the payments exceed it.
   * @example const item = ledger.settleItem(me, taskId, sha256(result), [[worker, price]])
   */
  settleItem (author: Uint8Array, task: Uint8Array, result: Uint8Array, payments: ReadonlyArray<readonly [Uint8Array, bigint]>): SettleItem {
    const escrow = this.authors.get(toKey(author))?.head.escrows.get(toKey(task))
    if (escrow === undefined) throw new LedgerError('ERR_NO_ESCROW', 'no escrow is open for this task')
    let real = escrow.real
    let trial = escrow.trial
    const pay: SettlePayment[] = []
    for (const [payee, amount] of [...payments].sort((x, y) => compareBytes(x[0], y[0]))) {
      if (amount > real + trial) throw new LedgerError('ERR_OVERDRAFT', `a payment of ${amount} exceeds the escrow's ${real + trial}`)
      const t = amount < trial ? amount : trial
      trial -= t
      real -= amount - t
      pay.push([payee, amount, t])
    }
    return { task, result, pay, release: real + trial, releaseTrial: trial }
  }

  /** The applied settle event with the largest network-work total, or null: a settlement names it in deps so its total follows the network's. */
  workFrontier (): { id: Uint8Array, total: bigint } | null {
    return this.frontier === null ? null : { id: this.idAt(this.frontier.index), total: this.frontier.total }
  }

  /** A settle body's `total` as the chain rule requires it: the work it builds on plus its payments. */
  private withWorkTotal (head: ChainState | undefined, body: BodyOf<'settle'>, deps: ReadonlyMap<string, Uint8Array>): BodyOf<'settle'> {
    const before = workBefore(head?.work ?? 0n, deps.keys(), this.ctx.dep)
    let paid = 0n
    for (const item of body.items) for (const [, amount] of item.pay) paid += amount
    return { items: body.items, total: before + paid }
  }

  /**
   * The split an escrow operation must state: trial credits go first (seed 002).
   * @example const body = ledger.escrowBody(me, 'reserve', taskId, credits(3))
   */
  escrowBody (author: Uint8Array, op: 'reserve' | 'charge' | 'release', task: Uint8Array, amount: bigint, payee?: Uint8Array): BodyOf<'escrow'> {
    const head = this.authors.get(toKey(author))?.head
    const available = op === 'reserve' ? (head?.trial ?? 0n) : (head?.escrows.get(toKey(task))?.trial ?? 0n)
    const body: BodyOf<'escrow'> = { op, task, amount, trial: amount < available ? amount : available }
    if (payee !== undefined) body.payee = payee
    return body
  }

  /** The author's chain state after its main chain's last event (what it can spend now). */
  chainState (author: Uint8Array): Readonly<ChainState> | undefined {
    const key = toKey(author)
    // An author funded at genesis can spend before its first event.
    return this.authors.get(key)?.head ?? (this.genesis.has(key) ? this.initialState(key) : undefined)
  }

  /** Derived view of one account. @example ledger.account(pk).balance */
  account (publicKey: Uint8Array): AccountView {
    const key = toKey(publicKey)
    const f = this.views.accounts.get(key) ?? zeroFields()
    const rec = this.authors.get(key)
    return {
      ...f,
      effectiveStake: f.staked + f.delegatedIn,
      spent: f.spentPositive - f.spentNegative,
      lastSeen: this.views.lastSeen.get(key) ?? null,
      equivocated: rec !== undefined && rec.forkSeq !== Infinity
    }
  }

  /** Every account holding or owing anything, as raw public keys. */
  accountIds (): Uint8Array[] {
    return [...this.views.accounts].filter(([, f]) => !isZero(f)).map(([key]) => fromKey(key))
  }

  /** Network totals. `conservationGap` is 0n while the conservation law holds. */
  totals (): { minted: bigint, burned: bigint, events: number, accounts: number, conservationGap: bigint } {
    let accounts = 0
    for (const f of this.views.accounts.values()) if (!isZero(f)) accounts++
    return { minted: this.views.minted, burned: this.views.burned, events: this.size, accounts, conservationGap: this.views.conservationGap() }
  }

  /** Reputation observations about `subject`: observer key -> kind -> count (effective only). */
  observationsOf (subject: Uint8Array): ReadonlyMap<string, ReadonlyMap<ObservationKind, number>> {
    const out = new Map<string, Map<ObservationKind, number>>()
    for (const [observer, counts] of this.views.observations.get(toKey(subject)) ?? []) {
      const kinds = new Map<ObservationKind, number>()
      OBSERVATION_KINDS.forEach((kind, i) => { if ((counts[i] as number) !== 0) kinds.set(kind, counts[i] as number) })
      out.set(observer, kinds)
    }
    return out
  }

  /**
   * The subject's reputation from observations others signed about it (reputation-view.ts).
   * @example ledger.reputation(worker.publicKey).tier
   */
  reputation (subject: Uint8Array, options: ReputationOptions = {}): ReputationView {
    return reputationOf({
      observationsOf: (s) => this.observationsOf(s),
      effectiveStakeOf: (key) => { const f = this.views.accounts.get(key); return f === undefined ? 0n : f.staked + f.delegatedIn },
      minStake: this.config.minStake
    }, subject, options)
  }

  /** Whether the event with this id is void (its author equivocated at or below its seq). */
  isVoidEvent (id: Uint8Array): boolean {
    const i = id.length === 32 ? this.index.get(id) : -1
    return i !== -1 && this.isVoid(i)
  }

  /** Both (or all) events at the author's first equivocated position, as proof; [] if honest. */
  equivocationProof (author: Uint8Array): LedgerEvent[] {
    const rec = this.authors.get(toKey(author))
    if (rec === undefined || rec.forkSeq === Infinity) return []
    const out: LedgerEvent[] = []
    for (let i = 0; i < this.arena.size; i++) {
      if (this.authorList[this.eventAuthor[i] as number] === rec && this.eventSeq[i] === rec.forkSeq) out.push(this.decodeAt(i))
    }
    return out
  }

  /**
   * Events by or about `member` (author or counterparty), optionally within [from, to] by time.
   * @example ledger.history(pk, { from: Date.now() - 3600_000 })
   */
  history (member: Uint8Array, range: { from?: number, to?: number } = {}): LedgerEvent[] {
    const from = range.from ?? -Infinity
    const to = range.to ?? Infinity
    return (this.byMember.get(toKey(member)) ?? [])
      .filter(i => (this.eventTime[i] as number) >= from && (this.eventTime[i] as number) <= to)
      .map(i => this.decodeAt(i))
  }

  /** Every event with time in [from, to], in time order (ties by id). */
  range (from: number, to: number): LedgerEvent[] {
    const order = this.sortedByTime()
    const times = this.eventTime
    let lo = 0
    let hi = order.length
    while (lo < hi) { const mid = (lo + hi) >> 1; if ((times[order[mid] as number] as number) < from) lo = mid + 1; else hi = mid }
    const out: LedgerEvent[] = []
    for (let k = lo; k < order.length && (times[order[k] as number] as number) <= to; k++) out.push(this.decodeAt(order[k] as number))
    return out
  }

  /**
   * Encodings of events, in an order that applies without waiting (the order they were applied
   * here). With `ids`, only those; otherwise all. Feed them to another replica's `ingest`.
   * @example await other.ingest(ledger.exportEvents())
   */
  exportEvents (ids?: readonly Uint8Array[]): Uint8Array[] {
    if (ids === undefined) return Array.from({ length: this.arena.size }, (_, i) => this.arena.get(i).slice())
    const indexes: number[] = []
    for (const id of ids) { const i = id.length === 32 ? this.index.get(id) : -1; if (i !== -1) indexes.push(i) }
    return indexes.sort((a, b) => a - b).map(i => this.arena.get(i).slice())
  }

  /** Ids of every event in the set, in the order they were applied here. */
  ids (): Uint8Array[] { return Array.from({ length: this.index.size }, (_, i) => this.idAt(i)) }

  /** Ids the pending pool waits for (ask peers for these). */
  missingIds (): Uint8Array[] { return this.pending.missingKeys().map(fromKey) }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.store?.close()
  }

  // ---------------------------------------------------------------------------------------------

  private assertUsable (): void {
    if (this.closed) throw new LedgerError('ERR_LEDGER_CLOSED', 'the ledger is closed')
    if (this.failure !== null) throw new LedgerError('ERR_STORE_FAILED', `the store failed earlier; reopen the ledger: ${this.failure.message}`)
  }

  /** Start checking an event's signatures; see `ingest` for what the promise resolves to. */
  private startVerify (e: LedgerEvent): Promise<boolean | EdgeNetError | null> | null {
    if (e.type === 'reward' || e.type === 'slash') return this.verifyWithEvidence(e)
    // The common case (no certificate or attestation) is WebCrypto's promise itself, not a chain
    // of promises around it: the memo is written once the result is consumed.
    return isVerified(e) ? null : verifyEd25519(e.author, e.signed, e.sig)
  }

  private async verifyWithEvidence (e: LedgerEvent): Promise<EdgeNetError | null> {
    if (!(await verifyEvent(e))) return new LedgerError('ERR_BAD_SIGNATURE', 'event signature does not verify')
    if (e.type === 'reward') {
      const { cert, batch } = (e as LedgerEvent<'reward'>).body
      if (batch !== undefined) {
        if (!(await verifyBatchSignatures(this.config.networkId, batch))) return new LedgerError('ERR_BAD_CERTIFICATE', 'a batch certificate signature does not verify')
      } else if (!(await verifyCertificate(this.config.networkId, cert, this.config.quorum))) {
        return new LedgerError('ERR_BAD_CERTIFICATE', 'settlement certificate lacks a valid submitter and quorum signature set')
      }
    } else if (e.type === 'slash') {
      const body = (e as LedgerEvent<'slash'>).body
      if (!(await verifyAttestation(this.config.networkId, body.offender, body.reason, body.evidence, this.config.quorum))) {
        return new LedgerError('ERR_BAD_SLASH', 'slash evidence lacks a valid quorum attestation')
      }
      if (!body.beneficiaries.every(b => body.evidence.sigs.some(([s]) => equalBytes(s, b)))) {
        return new LedgerError('ERR_BAD_SLASH', 'beneficiaries must be among the attesting co-workers')
      }
    }
    return null
  }

  /** Apply `e` if its dependencies are here, else park it; then apply what it releases. */
  private admit (first: LedgerEvent, toStore: StoredEvent[] | null, result: IngestResult | null, inputIndex: number): void {
    // Called with a null `toStore` and a null `result` only by `open` (replay), which throws.
    let missing: string[] | null = null
    if (first.prevKey !== null && this.index.getKey(first.prevKey) === -1) (missing ??= []).push(first.prevKey)
    for (const d of first.depKeys) if (this.index.getKey(d) === -1) (missing ??= []).push(d)
    if (missing !== null) {
      this.pending.add(first, missing)
      if (result !== null) result.pending++
      return
    }
    // Most events release nothing: no queue then.
    let queue: Array<[LedgerEvent, number]> | null = null
    let e: LedgerEvent | undefined = first
    let at = inputIndex
    while (e !== undefined) {
      if (this.applyOrRefuse(e, toStore, result, at)) {
        if (this.pending.size > 0) for (const ready of this.pending.resolve(e.key)) (queue ??= []).push([ready, -1])
      }
      const next = queue?.shift()
      e = next?.[0]
      at = next?.[1] ?? -1
    }
  }

  /** Apply one event whose dependencies are here; false if it was refused (recorded in `result`). */
  private applyOrRefuse (e: LedgerEvent, toStore: StoredEvent[] | null, result: IngestResult | null, at: number): boolean {
    try {
      this.apply(e)
    } catch (err) {
      if (result !== null) result.rejected.push({ index: at, id: e.id, error: asEdgeNetError(err) })
      else if (toStore === null) throw err
      return false
    }
    result?.applied.push(e.id)
    toStore?.push({ id: e.id, bytes: e.bytes })
    return true
  }

  private apply (e: LedgerEvent): void {
    const authorKey = e.authorKey
    const rec: AuthorRecord = this.authors.get(authorKey) ??
      { key: authorKey, index: this.authorList.length, main: [], head: this.initialState(authorKey), forkSeq: Infinity, branchHeads: new Map(), derivedSlash: 0n }
    let prevIndex = -1
    let onMain: boolean
    let state: ChainState
    if (e.prev === null) {
      onMain = rec.main.length === 0
      state = onMain ? rec.head : this.initialState(authorKey)
    } else {
      prevIndex = this.index.getKey(e.prevKey as string)
      if (this.keyOfAuthor(prevIndex) !== authorKey || this.eventSeq[prevIndex] !== e.seq - 1) {
        throw new LedgerError('ERR_CHAIN_BROKEN', 'prev is not the author\'s event at seq - 1')
      }
      onMain = rec.main.length === e.seq - 1 && rec.main[e.seq - 2] === prevIndex
      state = onMain ? rec.head : (rec.branchHeads.get(e.prevKey as string)?.clone() ?? this.replayTo(rec, prevIndex))
    }
    advanceChain(state, e, this.ctx)

    // Accepted: record it.
    if (!this.authors.has(authorKey)) {
      this.authors.set(authorKey, rec)
      this.authorList.push(rec)
    }
    const i = this.arena.push(e.bytes)
    this.index.add(e.id)
    this.grow(i)
    this.eventAuthor[i] = rec.index
    this.eventSeq[i] = e.seq
    this.eventTime[i] = e.time
    if (e.time > this.maxTime) this.maxTime = e.time
    if (e.type === 'stake' || e.type === 'unstake') {
      this.lastStake[i] = i
      this.stakedAfter.set(i, state.staked)
    } else {
      this.lastStake[i] = prevIndex === -1 ? -1 : this.lastStake[prevIndex] as number
    }
    this.merkle.add(e.id)
    this.timeOrder = null
    this.indexMember(authorKey, i)
    // What the event credits, worked out once (slashes split among several: asked per account).
    // Slashes and settlements credit several accounts: asked per account, not summarized.
    const summary = e.type === 'slash' || e.type === 'settle' ? null : creditSummary(e)
    for (const c of counterparties(e)) {
      if (equalBytes(c, e.author)) continue
      const key = keyOf(c)
      this.indexMember(key, i)
      if (summary === null ? creditTo(e, key) !== null : summary.to === key) {
        let list = this.creditsTo.get(key)
        if (list === undefined) this.creditsTo.set(key, list = [])
        list.push(i)
      }
    }
    this.views.seen(authorKey, e.time)
    if (e.type === 'slash') this.slashGroup(e).push(i)
    else if (summary !== null) this.rememberCredit(i, summary)
    if (e.type === 'settle') {
      const total = (e as LedgerEvent<'settle'>).body.total
      if (this.frontier === null || total > this.frontier.total) this.frontier = { total, index: i }
    }

    if (onMain) {
      rec.main.push(i)
      if (e.seq < rec.forkSeq) this.applyEffects(e, 1)
    } else {
      if (e.prevKey !== null) rec.branchHeads.delete(e.prevKey)
      rec.branchHeads.set(e.key, state)
      if (e.seq <= rec.main.length) this.markEquivocation(rec, e.seq)
      if (e.type === 'slash') this.recomputeSlashGroup(e)
    }
  }

  private markEquivocation (rec: AuthorRecord, seq: number): void {
    if (seq >= rec.forkSeq) return
    const before = rec.forkSeq
    rec.forkSeq = seq
    const end = Math.min(before, rec.main.length + 1)
    for (let s = seq; s < end; s++) this.applyEffects(this.decodeAt(rec.main[s - 1] as number), -1)
    if (rec.derivedSlash > 0n) this.views.apply(slashDeltas(rec.key, rec.derivedSlash, []), -1n)
    const stakedBefore = seq >= 2 ? this.stakedAtIndex(rec.main[seq - 2] as number) : 0n
    rec.derivedSlash = slashAmount(stakedBefore, 'DoubleSpend')
    if (rec.derivedSlash > 0n) this.views.apply(slashDeltas(rec.key, rec.derivedSlash, []), 1n)
  }

  private applyEffects (e: LedgerEvent, sign: 1 | -1): void {
    if (e.type === 'slash') {
      this.recomputeSlashGroup(e)
    } else {
      this.views.apply(eventDeltas(e, this.config), sign === 1 ? 1n : -1n)
    }
    if (e.type === 'reputation') {
      const body = (e as LedgerEvent<'reputation'>).body
      this.views.observe(toKey(body.subject), e.authorKey, body.kind, sign * (body.count ?? 1))
    }
  }

  /** One offender is slashed at most once per task, whatever the reason or the author. */
  private slashGroupKey (e: LedgerEvent): string {
    const b = (e as LedgerEvent<'slash'>).body
    return toKey(b.offender) + toKey(b.evidence.task)
  }

  private slashGroup (e: LedgerEvent): number[] {
    const key = this.slashGroupKey(e)
    let group = this.slashGroups.get(key)
    if (group === undefined) this.slashGroups.set(key, group = [])
    return group
  }

  /**
   * One offence (offender, task) is slashed once, however many nodes author a slash for it: of
   * the effective slash events in the group, the one with the smallest id counts.
   */
  private recomputeSlashGroup (e: LedgerEvent): void {
    const key = this.slashGroupKey(e)
    let best = -1
    for (const i of this.slashGroups.get(key) ?? []) {
      if (this.isVoid(i)) continue
      if (best === -1 || compareBytes(this.index.idAt(i), this.index.idAt(best)) < 0) best = i
    }
    const current = this.slashEffective.get(key) ?? -1
    if (best === current) return
    if (current !== -1) this.views.apply(eventDeltas(this.decodeAt(current), this.config), -1n)
    if (best !== -1) {
      this.views.apply(eventDeltas(this.decodeAt(best), this.config), 1n)
      this.slashEffective.set(key, best)
    } else {
      this.slashEffective.delete(key)
    }
  }

  private isVoid (i: number): boolean {
    return (this.eventSeq[i] as number) >= (this.authorList[this.eventAuthor[i] as number] as AuthorRecord).forkSeq
  }

  /** Rebuild an author's state after event `target` by replaying its own chain. */
  private replayTo (rec: AuthorRecord, target: number): ChainState {
    const chain: number[] = []
    let base: ChainState | null = null
    let cur = target
    while (cur !== -1) {
      const key = this.index.keyAt(cur)
      const cached = rec.branchHeads.get(key) ?? (cur === rec.main[rec.main.length - 1] ? rec.head : undefined)
      if (cached !== undefined) { base = cached.clone(); break }
      chain.push(cur)
      const e = this.decodeAt(cur)
      cur = e.prevKey === null ? -1 : this.index.getKey(e.prevKey)
    }
    const state = base ?? this.initialState(rec.key)
    for (let k = chain.length - 1; k >= 0; k--) advanceChain(state, this.decodeAt(chain[k] as number), this.ctx)
    return state
  }

  /** An author's state before its first event: empty, or its genesis balance. */
  private initialState (authorKey: string): ChainState {
    const state = new ChainState()
    state.balance = this.genesis.get(authorKey) ?? 0n
    return state
  }

  private stakedAtIndex (i: number): bigint {
    const s = this.lastStake[i] as number
    return s === -1 ? 0n : this.stakedAfter.get(s) ?? 0n
  }

  private keyOfAuthor (i: number): string {
    return (this.authorList[this.eventAuthor[i] as number] as AuthorRecord).key
  }

  private idAt (i: number): Uint8Array { return this.index.idAt(i).slice() }

  private decodeAt (i: number): LedgerEvent {
    const hit = this.decoded.get(i)
    if (hit !== undefined) return hit
    // Admitted events were hashed on the way in: no need to hash them again.
    const e = decodeKnownEvent(this.config.networkId, this.arena.get(i), this.index.idAt(i))
    this.remember(i, e)
    return e
  }

  /** `creditTo(event i, accountKey)`, from the summary when there is one. */
  private creditOf (i: number, accountKey: string): { readonly real: bigint, readonly trial: bigint } | null {
    const summary = this.credits.get(i)
    if (summary === undefined) return creditTo(this.decodeAt(i), accountKey)
    return summary.to === accountKey ? summary : null
  }

  private rememberCredit (i: number, summary: CreditSummary): void {
    const evicted = this.creditRing[this.creditNext] as number
    if (evicted !== -1) this.credits.delete(evicted)
    this.creditRing[this.creditNext] = i
    this.creditNext = (this.creditNext + 1) % CREDIT_CACHE
    this.credits.set(i, summary)
  }

  private remember (i: number, e: LedgerEvent): void {
    if (this.decoded.size >= DECODE_CACHE) this.decoded.delete(this.decoded.keys().next().value as number)
    this.decoded.set(i, e)
  }

  private indexMember (key: string, i: number): void {
    let list = this.byMember.get(key)
    if (list === undefined) this.byMember.set(key, list = [])
    list.push(i)
  }

  private sortedByTime (): number[] {
    if (this.timeOrder === null) {
      const times = this.eventTime
      this.timeOrder = Array.from({ length: this.arena.size }, (_, i) => i)
        .sort((a, b) => ((times[a] as number) - (times[b] as number)) || compareBytes(this.index.idAt(a), this.index.idAt(b)))
    }
    return this.timeOrder
  }

  private grow (i: number): void {
    if (i < this.eventSeq.length) return
    const n = this.eventSeq.length * 2
    const a = new Int32Array(n); a.set(this.eventAuthor); this.eventAuthor = a
    const s = new Uint32Array(n); s.set(this.eventSeq); this.eventSeq = s
    const t = new Float64Array(n); t.set(this.eventTime); this.eventTime = t
    const l = new Int32Array(n); l.set(this.lastStake); this.lastStake = l
  }
}

/**
 * Join two ledgers into a new in-memory one holding the union. Commutative, associative and
 * idempotent: equal state roots whatever the order.
 * @example const m = await merge(a, b); m.stateRootHex() === (await merge(b, a)).stateRootHex()
 */
export async function merge (a: Ledger, b: Ledger): Promise<Ledger> {
  const out = Ledger.create({ config: a.config })
  await out.ingest(a.exportEvents())
  await out.ingest(b.exportEvents())
  return out
}

/**
 * What a (non-slash) event credits; the same answers `creditTo` gives (effects.ts): a transfer
 * credits `to` with its amount, an escrow charge credits `payee` with its real and trial parts,
 * nothing else credits anyone. (Slashes split among several beneficiaries: use `creditTo`.)
 */
function creditSummary (e: LedgerEvent): CreditSummary {
  if (e.type === 'transfer') {
    const body = (e as LedgerEvent<'transfer'>).body
    return { to: keyOf(body.to), real: body.amount, trial: 0n }
  }
  if (e.type === 'escrow') {
    const body = (e as LedgerEvent<'escrow'>).body
    if (body.op === 'charge') return { to: keyOf(body.payee as Uint8Array), real: body.amount - body.trial, trial: body.trial }
  }
  return NO_CREDIT
}

function isZero (f: AccountFields): boolean {
  for (const k of ACCOUNT_FIELDS) if (f[k] !== 0n) return false
  return true
}

function asEdgeNetError (err: unknown): EdgeNetError {
  if (err instanceof EdgeNetError) return err
  throw err
}
