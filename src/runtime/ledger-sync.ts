/**
 * Ledger replication between nodes over the Transport port (issue 4 §2): gossip of new events on
 * LEDGER_TOPIC, and anti-entropy by Merkle ranges (the core's sans-I/O SyncSession,
 * src/core/ledger/sync.ts) over direct messages on LEDGER_SYNC_TOPIC. The ledger is a G-Set, so
 * delivering an event twice, late or out of order is harmless: gossip makes new events arrive
 * fast, anti-entropy makes every event arrive eventually (a lost gossip, a partition, a node that
 * joins late), and equal state roots mean equal ledgers.
 *
 * A transport has one message handler, so this class does not take it: the node's dispatcher
 * calls `handle(from, topic, data)`, which returns false for topics that are not its own.
 *
 * Peers are judged by what they send: a message that does not decode, an oversized one, or an
 * event the ledger refuses counts against the sender (`peerScore`, `onInvalid`) and nothing of it
 * is applied. Only events already in the local ledger (so validated) are ever gossiped, and only
 * the node's own new events: received events are never re-published (gossipsub forwards below us).
 * Wire format: ledger-sync-wire.ts; schedule, sizes and rules: docs/network.md.
 */
import { toKey } from '../core/bytes.ts'
import { decodeEvent } from '../core/ledger/index.ts'
import type { Ledger } from '../core/ledger/index.ts'
import { SyncSession, decodeSyncMessage, encodeSyncMessage, MAX_SYNC_MESSAGE_BYTES } from '../core/ledger/sync.ts'
import type { SyncMessage } from '../core/ledger/sync.ts'
import type { AbortOptions, Clock, Transport } from '../ports.ts'
import { LedgerSyncError } from './ledger-sync-errors.ts'
import { PeerTable, offences } from './ledger-sync-peers.ts'
import type { PeerEntry, PeerSyncStats } from './ledger-sync-peers.ts'
import {
  ENVELOPE_BYTES, LEDGER_SYNC_TOPIC, LEDGER_TOPIC, MAX_WANT_IDS, MIN_MESSAGE_BYTES,
  chunkEvents, chunkIds, decodeDirect, decodeGossip, encodeDirect, encodeGossip
} from './ledger-sync-wire.ts'
import type { DirectFrame } from './ledger-sync-wire.ts'

export { LEDGER_TOPIC, LEDGER_SYNC_TOPIC } from './ledger-sync-wire.ts'

/** Most messages one session may take before it is cut off (a 100k-id diff needs about 8). */
export const MAX_SESSION_STEPS = 256
/** Default cap on one outgoing message (the libp2p transport accepts 1 MiB). */
export const DEFAULT_SYNC_MESSAGE_BYTES = 256 * 1024
/** Most events-messages sent in answer to one want (bounds what one request costs us). */
const MAX_REPLIES_PER_WANT = 8
/** Inbound event bytes waiting for the ledger beyond which new event messages are dropped. */
const MAX_QUEUED_INBOUND_BYTES = 32 * 1024 * 1024
/** A missing id is asked for again at most this often. */
const WANT_RETRY_MS = 500
/** A gap of at most this many missing ids is asked for by id; a larger one waits for a sync. */
const SMALL_GAP_IDS = 256
/** Remembered ended sessions, so a late duplicate of an opening does not start a new one. */
const RECENT_SESSIONS = 1024

/** Options of a {@link LedgerSync}. */
export interface LedgerSyncInit {
  readonly ledger: Ledger
  readonly transport: Transport
  /** Local clock, for refusing far-future events and for throttles. Default Date.now. */
  readonly clock?: Clock
  /** Uniform [0, 1) source for peer picks and session ids. Default: crypto. */
  readonly random?: () => number
  /** Cap on one outgoing message, bytes (MIN_MESSAGE_BYTES..1 MiB). Default 256 KiB, or the transport's `maxMessageBytes` if smaller. */
  readonly maxMessageBytes?: number
  /** Collect announced events this long and gossip them as one message; 0 publishes at once. Default 5. */
  readonly batchMs?: number
  /** A session whose peer stays silent this long fails with ERR_SYNC_TIMEOUT. Default 5000. */
  readonly sessionTimeoutMs?: number
  /** Sessions with one peer at once (both roles). Default 2. */
  readonly maxSessionsPerPeer?: number
  /** Sessions at once in all. Default 32. */
  readonly maxSessions?: number
  /** SyncSession's id-list threshold (fewer round trips when larger). Default the core's. */
  readonly idListThreshold?: number
  /** Drop a peer's messages unread once it has this many offences. Default Infinity (count only). */
  readonly ignoreAfter?: number
  /** After events from a peer leave a gap, sync with it at most once per this many ms; 0 never. Default 1000. */
  readonly gapSyncMs?: number
  /** A peer committed an offence; `count` is its total so far. */
  readonly onInvalid?: (peer: Uint8Array, count: number, error: LedgerSyncError) => void
  /** The ledger applied these events, received from `peer`. */
  readonly onApplied?: (ids: Uint8Array[], peer: Uint8Array) => void
  /** Something failed that is nobody's offence (the ledger's store, the transport refusing a send). */
  readonly onError?: (error: unknown) => void
}

/** What one completed `syncWith` did. */
export interface SyncReport {
  /** Events sent to the peer because it lacked them. */
  sent: number
  /** Ids we lacked: the peer, which worked out the same difference, sends their events as its side ends (they arrive later, through `handle`). */
  missing: number
  /** Sync messages exchanged (both directions) and their bytes. */
  messages: number
  bytes: number
}

/** Counters of one replicator. */
export interface LedgerSyncStats {
  published: number
  eventsReceived: number
  eventsApplied: number
  eventsRejected: number
  sessionsStarted: number
  sessionsCompleted: number
  sessionsFailed: number
  eventsSent: number
  idsRequested: number
  /** Messages dropped unread: from ignored peers, or over the inbound queue bound. */
  dropped: number
}

interface Session {
  readonly key: string
  readonly id: number
  readonly peer: PeerEntry
  readonly initiator: boolean
  readonly sync: SyncSession
  /** The step expected next from the peer. */
  expect: number
  messages: number
  bytes: number
  timer: ReturnType<typeof setTimeout> | undefined
  /** Resends of `last` since the peer last spoke. */
  retries: number
  /** Local clock when the peer last sent an accepted step (or the session opened). */
  heardAt: number
  /** Our last sync frame, resent if the peer stays silent or repeats its previous step. */
  last: Uint8Array | undefined
  settle: ((error: Error | null, report?: SyncReport) => void) | undefined
}

function cryptoRandom (): number {
  const b = new Uint32Array(2)
  crypto.getRandomValues(b)
  return ((b[0] as number) * 2 ** 21 + ((b[1] as number) >>> 11)) / 2 ** 53
}

function questions (m: SyncMessage): number {
  return m.fingerprints.length + m.nodes.length + m.idLists.length
}

const badOption = (why: string): LedgerSyncError => new LedgerSyncError('ERR_SYNC_BAD_OPTIONS', why)

/**
 * Replicates one node's ledger with its peers.
 *
 * @example
 * const sync = new LedgerSync({ ledger, transport })
 * transport.onMessage((from, topic, data) => { if (!sync.handle(from, topic, data)) otherProtocols(from, topic, data) })
 * sync.announce(await account.transfer(bob, credits(5)))   // gossip a new local event
 * sync.start({ intervalMs: 2000 })                          // anti-entropy with a random peer
 * await sync.syncWith(peerKey)                              // or one round now
 * await sync.close()
 */
export class LedgerSync {
  readonly ledger: Ledger
  readonly transport: Transport
  readonly maxMessageBytes: number
  readonly stats: LedgerSyncStats = {
    published: 0, eventsReceived: 0, eventsApplied: 0, eventsRejected: 0, sessionsStarted: 0,
    sessionsCompleted: 0, sessionsFailed: 0, eventsSent: 0, idsRequested: 0, dropped: 0
  }

  readonly #clock: Clock
  readonly #random: () => number
  readonly #batchMs: number
  readonly #timeoutMs: number
  readonly #perPeer: number
  readonly #maxSessions: number
  readonly #threshold: number | undefined
  readonly #ignoreAfter: number
  readonly #gapSyncMs: number
  readonly #init: LedgerSyncInit
  readonly #peers = new PeerTable()
  readonly #sessions = new Map<string, Session>()
  /** Ended sessions, with their last frame when small (to answer a repeat of the peer's last step). */
  readonly #recent = new Map<string, Uint8Array | undefined>()
  readonly #wanted = new Map<string, number>()
  #batch: Uint8Array[] = []
  #batchBytes = 0
  #batchTimer: ReturnType<typeof setTimeout> | undefined
  #interval: ReturnType<typeof setInterval> | undefined
  #ingesting: Promise<void> = Promise.resolve()
  #queuedBytes = 0
  #closed = false

  constructor (init: LedgerSyncInit) {
    const transportCap = (init.transport as { maxMessageBytes?: unknown }).maxMessageBytes
    const cap = init.maxMessageBytes ?? Math.min(DEFAULT_SYNC_MESSAGE_BYTES, typeof transportCap === 'number' ? transportCap : Infinity)
    if (!Number.isSafeInteger(cap) || cap < MIN_MESSAGE_BYTES || cap > MAX_SYNC_MESSAGE_BYTES) throw badOption(`maxMessageBytes must be an integer in ${MIN_MESSAGE_BYTES}..${MAX_SYNC_MESSAGE_BYTES}`)
    const batchMs = init.batchMs ?? 5
    const timeoutMs = init.sessionTimeoutMs ?? 5000
    const perPeer = init.maxSessionsPerPeer ?? 2
    const maxSessions = init.maxSessions ?? 32
    const gapSyncMs = init.gapSyncMs ?? 1000
    if (!(batchMs >= 0 && batchMs <= 60_000)) throw badOption('batchMs must be in 0..60000')
    if (!(timeoutMs > 0 && timeoutMs <= 600_000)) throw badOption('sessionTimeoutMs must be in (0, 600000]')
    if (!Number.isSafeInteger(perPeer) || perPeer < 1) throw badOption('maxSessionsPerPeer must be a positive integer')
    if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) throw badOption('maxSessions must be a positive integer')
    if (!(gapSyncMs >= 0)) throw badOption('gapSyncMs must be >= 0')
    if (init.ignoreAfter !== undefined && !(init.ignoreAfter >= 1)) throw badOption('ignoreAfter must be >= 1')
    this.ledger = init.ledger
    this.transport = init.transport
    this.maxMessageBytes = cap
    this.#init = init
    this.#clock = init.clock ?? { now: () => Date.now() }
    this.#random = init.random ?? cryptoRandom
    this.#batchMs = batchMs
    this.#timeoutMs = timeoutMs
    this.#perPeer = perPeer
    this.#maxSessions = maxSessions
    this.#threshold = init.idListThreshold
    this.#ignoreAfter = init.ignoreAfter ?? Infinity
    this.#gapSyncMs = gapSyncMs
    // Fail now, not in the middle of the first session, for a bad threshold.
    this.#newSession()
  }

  // --- gossip -----------------------------------------------------------------------------------

  /**
   * Gossip new local events: each input is an event of this ledger given by its id (32 bytes), its
   * encoding, or the `LedgerEvent` that `append` returned. Events are collected for `batchMs` and
   * published together, in messages under the cap. An input that is not in the local ledger throws
   * ERR_SYNC_BAD_OPTIONS and nothing is queued (only validated events are ever gossiped).
   * @example sync.announce(await ledger.append(identity, 'transfer', { to, amount }))
   */
  announce (input: Uint8Array | { readonly id: Uint8Array } | ReadonlyArray<Uint8Array | { readonly id: Uint8Array }>): void {
    if (this.#closed) throw new LedgerSyncError('ERR_SYNC_CLOSED', 'the ledger replicator is closed')
    const list = Array.isArray(input) ? input : [input as Uint8Array | { readonly id: Uint8Array }]
    const out: Uint8Array[] = []
    for (const item of list) {
      let id: Uint8Array
      if (item instanceof Uint8Array) {
        if (item.length === 32) id = item
        else {
          try { id = decodeEvent(this.ledger.config.networkId, item).id } catch (err) { throw new LedgerSyncError('ERR_SYNC_BAD_OPTIONS', 'announce() was given bytes that are not an event', { cause: err }) }
        }
      } else if (item !== null && typeof item === 'object' && item.id instanceof Uint8Array) {
        id = item.id
      } else {
        throw badOption('announce() takes event ids, encodings or LedgerEvents')
      }
      const bytes = this.ledger.get(id)
      if (bytes === undefined) throw badOption('announce() was given an event that is not in the local ledger')
      out.push(bytes)
    }
    for (const bytes of out) {
      this.#batch.push(bytes)
      this.#batchBytes += bytes.length
    }
    if (this.#batchMs === 0 || this.#batchBytes >= this.maxMessageBytes) this.flush()
    else this.#batchTimer ??= setTimeout(() => { this.flush() }, this.#batchMs)
  }

  /** Publish the announced events now. @example sync.flush() */
  flush (): void {
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer)
    this.#batchTimer = undefined
    const batch = this.#batch
    this.#batch = []
    this.#batchBytes = 0
    for (const group of chunkEvents(batch, this.maxMessageBytes)) {
      this.stats.published++
      this.#transmit(() => { this.transport.publish(LEDGER_TOPIC, encodeGossip(group)) })
    }
  }

  // --- receiving --------------------------------------------------------------------------------

  /**
   * Take a message from the node's dispatcher. Returns false (and does nothing) if `topic` is not
   * a ledger topic; otherwise true, whatever became of the message. Never throws.
   * @example transport.onMessage((from, topic, data) => { sync.handle(from, topic, data) || tasks.handle(from, topic, data) })
   */
  handle (from: Uint8Array, topic: string, data: Uint8Array): boolean {
    if (topic !== LEDGER_TOPIC && topic !== LEDGER_SYNC_TOPIC) return false
    if (this.#closed || !(from instanceof Uint8Array) || from.length !== 32) return true
    const peer = this.#peers.get(from)
    if (offences(peer.stats) >= this.#ignoreAfter) { this.stats.dropped++; return true }
    try {
      if (topic === LEDGER_TOPIC) {
        const events = decodeGossip(data)
        this.#heard(peer)
        this.#ingest(peer, events)
      } else {
        const frame = decodeDirect(data)
        this.#heard(peer)
        this.#direct(peer, frame)
      }
    } catch (err) {
      if (err instanceof LedgerSyncError) this.#offence(peer, err)
      else this.#error(err)
    }
    return true
  }

  #heard (peer: PeerEntry): void {
    peer.heard = true
    peer.stats.lastHeard = this.#clock.now()
  }

  #direct (peer: PeerEntry, frame: DirectFrame): void {
    switch (frame.kind) {
      case 'events': this.#ingest(peer, frame.events); return
      case 'want': this.#serve(peer, frame.ids); return
      case 'abort': {
        const s = this.#sessions.get(this.#sessionKey(peer, frame.session, !frame.initiator))
        if (s !== undefined) this.#fail(s, new LedgerSyncError('ERR_SYNC_ABORTED', `the peer ended the session: ${frame.reason}`), false)
        return
      }
      case 'sync': this.#syncStep(peer, frame)
    }
  }

  /** Hand events to the ledger in arrival order; count what it refuses against the sender. */
  #ingest (peer: PeerEntry, events: Uint8Array[]): void {
    let bytes = 0
    for (const e of events) bytes += e.length
    if (this.#queuedBytes + bytes > MAX_QUEUED_INBOUND_BYTES) { this.stats.dropped++; return }
    this.#queuedBytes += bytes
    this.stats.eventsReceived += events.length
    peer.received += events.length
    peer.lastReceived = this.#clock.now()
    this.#ingesting = this.#ingesting.then(async () => {
      if (this.#closed) return
      const result = await this.ledger.ingest(events, { now: this.#clock.now() })
      this.stats.eventsApplied += result.applied.length
      peer.stats.validEvents += result.applied.length
      for (const r of result.rejected) {
        this.stats.eventsRejected++
        // A released pending event (index -1) came from whoever sent it earlier, and a far-future
        // date may be our clock's fault: neither is this peer's offence.
        if (r.index < 0 || r.error.code === 'ERR_FUTURE_EVENT') continue
        peer.stats.invalidEvents++
        this.#report(peer, new LedgerSyncError('ERR_SYNC_INVALID_EVENT', `peer sent an event the ledger refused: ${r.error.message}`, { cause: r.error }))
      }
      if (result.applied.length > 0) this.#init.onApplied?.(result.applied, peer.id)
      if (result.pending > 0 || this.ledger.pendingCount > 0) this.#fillGap(peer)
    }).catch((err: unknown) => { this.#error(err) }).finally(() => { this.#queuedBytes -= bytes })
  }

  /**
   * Events from `peer` wait for dependencies: ask it for them (one round trip when one gossip was
   * lost), and sync with it now and then (a deeper gap needs the Merkle walk).
   */
  #fillGap (peer: PeerEntry): void {
    const now = this.#clock.now()
    const ask: Uint8Array[] = []
    const missing = this.ledger.missingIds()
    // A large gap (a node far behind) is the Merkle walk's job: asking by id would re-ask for
    // events that are already here, parked (the ledger reports what its pending pool waits for,
    // which includes parked events that wait in turn).
    if (missing.length > SMALL_GAP_IDS) missing.length = 0
    for (const id of missing) {
      const key = toKey(id)
      if ((this.#wanted.get(key) ?? -Infinity) + WANT_RETRY_MS > now) continue
      this.#wanted.set(key, now)
      ask.push(id)
      if (ask.length >= MAX_WANT_IDS) break
    }
    if (this.#wanted.size > 4 * MAX_WANT_IDS) for (const [k, t] of this.#wanted) if (t + WANT_RETRY_MS <= now) this.#wanted.delete(k)
    this.#want(peer, ask)
    if (this.#gapSyncMs > 0 && peer.lastGapSync + this.#gapSyncMs <= now && peer.running === 0 && !this.#awaiting(peer, now)) {
      peer.lastGapSync = now
      this.syncWith(peer.id).catch(() => {})
    }
  }

  #want (peer: PeerEntry, ids: readonly Uint8Array[]): void {
    this.stats.idsRequested += ids.length
    for (const packed of chunkIds(ids, this.maxMessageBytes)) this.#send(peer, { kind: 'want', ids: packed })
  }

  /** Send the events of `ids` we hold (causal order, a bounded number of messages). */
  #serve (peer: PeerEntry, packed: Uint8Array): void {
    const ids: Uint8Array[] = []
    for (let o = 0; o < packed.length; o += 32) ids.push(packed.subarray(o, o + 32))
    this.#sendEvents(peer, this.ledger.exportEvents(ids), MAX_REPLIES_PER_WANT)
  }

  #sendEvents (peer: PeerEntry, events: Uint8Array[], maxMessages: number): number {
    let sent = 0
    for (const group of chunkEvents(events, this.maxMessageBytes).slice(0, maxMessages)) {
      this.#send(peer, { kind: 'events', events: group })
      sent += group.length
    }
    this.stats.eventsSent += sent
    return sent
  }

  // --- anti-entropy -------------------------------------------------------------------------------

  /**
   * Reconcile with one peer now: a Merkle-range session over direct messages; then the events the
   * peer lacks are sent to it, and the peer sends the ones we lack (they arrive asynchronously and
   * go through `handle`). Rejects with ERR_SYNC_TIMEOUT, ERR_SYNC_BUSY, ERR_SYNC_ABORTED,
   * ERR_SYNC_MALFORMED (the peer's fault, counted against it), ERR_SYNC_LIMIT, ERR_SYNC_CLOSED or
   * ERR_SYNC_BAD_OPTIONS (not a 32-byte key, or this node's own).
   * @example const { sent, missing } = await sync.syncWith(peerKey)
   */
  async syncWith (peer: Uint8Array, options: AbortOptions = {}): Promise<SyncReport> {
    if (this.#closed) throw new LedgerSyncError('ERR_SYNC_CLOSED', 'the ledger replicator is closed')
    if (!(peer instanceof Uint8Array) || peer.length !== 32) throw badOption('a peer is named by its 32-byte public key')
    if (toKey(peer) === toKey(this.transport.self)) throw badOption('cannot sync with oneself')
    options.signal?.throwIfAborted()
    const entry = this.#peers.get(peer)
    if (entry.running >= this.#perPeer || this.#sessions.size >= this.#maxSessions) {
      throw new LedgerSyncError('ERR_SYNC_BUSY', 'too many sync sessions running')
    }
    let id = Math.floor(this.#random() * 2 ** 32) >>> 0
    while (this.#sessions.has(this.#sessionKey(entry, id, true))) id = (id + 1) >>> 0
    const s = this.#open(entry, id, true)
    this.stats.sessionsStarted++
    const done = new Promise<SyncReport>((resolve, reject) => {
      s.settle = (error, report) => { if (error !== null) reject(error); else resolve(report as SyncReport) }
    })
    const onAbort = (): void => { this.#fail(s, new LedgerSyncError('ERR_SYNC_ABORTED', 'sync aborted by the caller', { cause: options.signal?.reason }), true) }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    this.#sendStep(s, 0, s.sync.start())
    s.expect = 1
    try {
      return await done
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * Run anti-entropy every `intervalMs`: each time, one session with a peer picked at random among
   * those heard from or added (and not ignored or already at the session cap). Idempotent while
   * running; `stop()` ends it. Failures of these rounds are counted in `stats`, not thrown.
   * @example sync.start({ intervalMs: 2000 })
   */
  start (options: { readonly intervalMs: number }): void {
    if (this.#closed) throw new LedgerSyncError('ERR_SYNC_CLOSED', 'the ledger replicator is closed')
    if (!(options.intervalMs >= 1 && options.intervalMs <= 3_600_000)) throw badOption('intervalMs must be in 1..3600000')
    if (this.#interval !== undefined) return
    this.#interval = setInterval(() => { this.#round() }, options.intervalMs)
  }

  /** Stop periodic anti-entropy (running sessions finish). @example sync.stop() */
  stop (): void {
    if (this.#interval !== undefined) clearInterval(this.#interval)
    this.#interval = undefined
  }

  #round (): void {
    if (this.#sessions.size >= this.#maxSessions) return
    const self = toKey(this.transport.self)
    const now = this.#clock.now()
    const list = this.#peers.candidates(p => p.key !== self && p.running < this.#perPeer && offences(p.stats) < this.#ignoreAfter && !this.#awaiting(p, now))
    const pick = list[Math.floor(this.#random() * list.length)]
    if (pick !== undefined) this.syncWith(pick.id).catch(() => {})
  }

  /** Add a peer to sync with (kept until `removePeer`). @example sync.addPeer(bootstrapKey) */
  addPeer (peer: Uint8Array): void {
    if (!(peer instanceof Uint8Array) || peer.length !== 32) throw badOption('a peer is named by its 32-byte public key')
    if (toKey(peer) === toKey(this.transport.self)) return
    this.#peers.get(peer).listed = true
  }

  /** Stop picking a peer for anti-entropy until it is heard from again (its counts stay). @example sync.removePeer(staleKey) */
  removePeer (peer: Uint8Array): void {
    if (peer instanceof Uint8Array && peer.length === 32) this.#peers.remove(peer)
  }

  /** The peers anti-entropy picks from. @example sync.peers().length */
  peers (): Uint8Array[] {
    return this.#peers.candidates(p => offences(p.stats) < this.#ignoreAfter).map(p => p.id.slice())
  }

  /**
   * A peer's standing as seen here: 0 for a clean or unknown peer, minus one per offence (each
   * refused event, each malformed or oversized message). For a later layer to graylist from.
   * @example if (sync.peerScore(peer) < -10) graylist(peer)
   */
  peerScore (peer: Uint8Array): number {
    const entry = this.#peers.find(peer)
    return entry === undefined ? 0 : 0 - offences(entry.stats)
  }

  /** A copy of what one peer has done, or undefined if unknown. @example sync.peerStats(peer)?.invalidEvents */
  peerStats (peer: Uint8Array): PeerSyncStats | undefined {
    const entry = this.#peers.find(peer)
    return entry === undefined ? undefined : { ...entry.stats }
  }

  /**
   * Stop everything: periodic rounds end, announced events still batched are published, running
   * sessions fail with ERR_SYNC_CLOSED, and events being ingested finish. Idempotent. The
   * transport is the caller's to close.
   * @example await sync.close()
   */
  async close (): Promise<void> {
    if (this.#closed) return await this.#ingesting
    this.stop()
    this.flush()
    this.#closed = true
    for (const s of [...this.#sessions.values()]) this.#fail(s, new LedgerSyncError('ERR_SYNC_CLOSED', 'the ledger replicator closed'), true)
    await this.#ingesting
  }

  // --- sessions -----------------------------------------------------------------------------------

  #newSession (): SyncSession {
    const budget = Math.min(this.maxMessageBytes - ENVELOPE_BYTES, MAX_SYNC_MESSAGE_BYTES)
    try {
      return new SyncSession(this.ledger.merkleSet, this.#threshold === undefined ? { maxMessageBytes: budget } : { maxMessageBytes: budget, idListThreshold: this.#threshold })
    } catch (err) {
      throw new LedgerSyncError('ERR_SYNC_BAD_OPTIONS', (err as Error).message, { cause: err })
    }
  }

  /** Our sessions are keyed by peer, number and whether we opened it. */
  #sessionKey (peer: PeerEntry, id: number, weOpened: boolean): string {
    return `${peer.key}|${id}|${weOpened ? 'i' : 'r'}`
  }

  #open (peer: PeerEntry, id: number, initiator: boolean): Session {
    const s: Session = {
      key: this.#sessionKey(peer, id, initiator), id, peer, initiator, sync: this.#newSession(),
      expect: 0, messages: 0, bytes: 0, timer: undefined, retries: 0, heardAt: this.#clock.now(), last: undefined, settle: undefined
    }
    this.#sessions.set(s.key, s)
    peer.running++
    this.#arm(s)
    return s
  }

  /**
   * Messages get lost: while the peer is silent, resend our last step every quarter of the
   * session timeout (the peer drops a repeat it already took, and answers a repeat of a step it
   * already answered with its answer again: stop-and-wait ARQ). Silent for the whole timeout: fail.
   */
  #arm (s: Session): void {
    if (s.timer !== undefined) clearTimeout(s.timer)
    s.timer = setTimeout(() => {
      if (this.#clock.now() - s.heardAt >= this.#timeoutMs || s.retries >= 3) {
        s.peer.stats.timeouts++
        this.#fail(s, new LedgerSyncError('ERR_SYNC_TIMEOUT', `no answer from the peer for ${this.#timeoutMs} ms`), true)
        return
      }
      s.retries++
      if (s.last !== undefined) this.#sendRaw(s.peer, s.last)
      this.#arm(s)
    }, this.#timeoutMs / 4)
  }

  #syncStep (peer: PeerEntry, frame: DirectFrame & { kind: 'sync' }): void {
    // The sender opened the session iff `frame.initiator`: then it is our responder session.
    const key = this.#sessionKey(peer, frame.session, !frame.initiator)
    let s = this.#sessions.get(key)
    if (s === undefined) {
      // Only an opening starts a session; a stray later step (a session we ended) is dropped.
      const last = this.#recent.get(key)
      // The peer repeats the step our final frame answered: that frame was lost, send it again.
      if (last !== undefined && frame.step % 2 === (frame.initiator ? 0 : 1)) this.#sendRaw(peer, last)
      if (!frame.initiator || frame.step !== 0 || this.#recent.has(key)) return
      if (peer.running >= this.#perPeer || this.#sessions.size >= this.#maxSessions) {
        this.#send(peer, { kind: 'abort', session: frame.session, initiator: false, reason: 'busy' })
        return
      }
      s = this.#open(peer, frame.session, false)
    }
    // Steps alternate, so anything but the expected one is a duplicate or a stray: dropped; a
    // repeat of the peer's previous step means our answer was lost, so it goes again.
    if (frame.step === s.expect - 2 && s.last !== undefined) { this.#sendRaw(peer, s.last); return }
    if (frame.step !== s.expect) return
    if (frame.step >= MAX_SESSION_STEPS) {
      this.#fail(s, new LedgerSyncError('ERR_SYNC_LIMIT', `session went past ${MAX_SESSION_STEPS} messages`), true)
      return
    }
    s.messages++
    s.bytes += frame.message.length
    let message: SyncMessage
    let reply: SyncMessage | null
    try {
      message = decodeSyncMessage(frame.message)
      reply = s.sync.receive(message)
    } catch (err) {
      const error = new LedgerSyncError('ERR_SYNC_MALFORMED', `bad sync message: ${(err as Error).message}`, { cause: err })
      this.#offence(peer, error)
      this.#fail(s, error, true)
      return
    }
    s.heardAt = this.#clock.now()
    s.retries = 0
    this.#arm(s)
    if (reply === null) { this.#finish(s); return }
    this.#sendStep(s, frame.step + 1, reply)
    s.expect = frame.step + 2
    // The peer answers nothing to a reply that asks nothing, when it has nothing queued (its last
    // message did not say `more`): SyncSession.receive returns null there. So we are done too.
    if (!reply.more && questions(reply) === 0 && !message.more) this.#finish(s)
  }

  #sendStep (s: Session, step: number, message: SyncMessage): void {
    let bytes: Uint8Array
    try {
      bytes = encodeSyncMessage(message)
    } catch (err) {
      this.#fail(s, new LedgerSyncError('ERR_SYNC_LIMIT', 'sync message over the cap', { cause: err }), true)
      return
    }
    s.messages++
    s.bytes += bytes.length
    s.last = encodeDirect({ kind: 'sync', session: s.id, initiator: s.initiator, step, message: bytes })
    this.#sendRaw(s.peer, s.last)
  }

  /**
   * The exchange ended and both sides know the same difference: each sends the other what it
   * lacks, in one causal order (exportEvents: the order they applied here), so that on an ordered
   * link nothing waits in the receiver's pending pool. Both pushing, rather than one side asking,
   * saves a round trip and keeps that order across the whole difference.
   */
  #finish (s: Session): void {
    this.#close(s)
    s.peer.stats.sessions++
    if (s.initiator) this.stats.sessionsCompleted++
    const sent = this.#sendEvents(s.peer, this.ledger.exportEvents(s.sync.missingOnOtherSide), Infinity)
    const missing = s.sync.missingHere.filter(id => !this.ledger.has(id)).length
    // Start no new round with this peer while its answer is on the way (a round now would find
    // the same difference and have it all sent again).
    s.peer.awaitReceived = s.peer.received + missing
    s.peer.lastReceived = this.#clock.now()
    s.settle?.(null, { sent, missing, messages: s.messages, bytes: s.bytes })
  }

  /**
   * The peer still owes us events from a finished session and is still sending: a quarter of the
   * session timeout without a message from it means some were lost, and a new round may start.
   */
  #awaiting (peer: PeerEntry, now: number): boolean {
    return peer.received < peer.awaitReceived && now - peer.lastReceived < this.#timeoutMs / 4
  }

  #fail (s: Session, error: LedgerSyncError, tellPeer: boolean): void {
    if (!this.#sessions.has(s.key)) return
    this.#close(s)
    if (tellPeer && !this.#closed) this.#send(s.peer, { kind: 'abort', session: s.id, initiator: s.initiator, reason: error.code })
    if (s.initiator) this.stats.sessionsFailed++
    s.settle?.(error)
  }

  #close (s: Session): void {
    if (s.timer !== undefined) clearTimeout(s.timer)
    s.timer = undefined
    if (this.#sessions.delete(s.key)) s.peer.running--
    // Keep a small final frame (the usual last step: a few ids) to answer the peer's repeat.
    this.#recent.set(s.key, s.last !== undefined && s.last.length <= 4096 ? s.last : undefined)
    if (this.#recent.size > RECENT_SESSIONS) this.#recent.delete(this.#recent.keys().next().value as string)
  }

  // --- plumbing -------------------------------------------------------------------------------------

  #send (peer: PeerEntry, frame: DirectFrame): void {
    this.#transmit(() => { this.transport.send(peer.id, LEDGER_SYNC_TOPIC, encodeDirect(frame)) })
  }

  #sendRaw (peer: PeerEntry, bytes: Uint8Array): void {
    this.#transmit(() => { this.transport.send(peer.id, LEDGER_SYNC_TOPIC, bytes) })
  }

  #transmit (action: () => void): void {
    try {
      action()
    } catch (err) {
      this.#error(err)
    }
  }

  #offence (peer: PeerEntry, error: LedgerSyncError): void {
    peer.stats.badMessages++
    this.#report(peer, error)
  }

  #report (peer: PeerEntry, error: LedgerSyncError): void {
    try {
      this.#init.onInvalid?.(peer.id.slice(), offences(peer.stats), error)
    } catch (err) {
      this.#error(err)
    }
  }

  #error (err: unknown): void {
    try {
      this.#init.onError?.(err)
    } catch {
      // A throwing error callback must not break message handling.
    }
  }
}

export { LedgerSyncError, LEDGER_SYNC_ERROR_CODES } from './ledger-sync-errors.ts'
export type { LedgerSyncErrorCode } from './ledger-sync-errors.ts'
export type { PeerSyncStats } from './ledger-sync-peers.ts'
export { MAX_INBOUND_BYTES, MIN_MESSAGE_BYTES } from './ledger-sync-wire.ts'
