/**
 * Presence: signed heartbeats on a gossip topic, and the live set of peers they build (issue 4
 * §2). Every `intervalMs` a node publishes a heartbeat with its status; a peer not heard from for
 * `staleMs` is marked stale and leaves the live set, and comes back with its next heartbeat.
 *
 * A heartbeat is signed (`heartbeat` domain) because gossip is relayed: the relaying peer is not
 * its author. Each carries a sequence number that only grows (the author's clock in ms, or one
 * more than its last), so a replayed or reordered heartbeat is ignored. Heartbeats are not ledger
 * events: they are frequent and say nothing the ledger must keep (the ledger's own `heartbeat`
 * events acknowledge credits).
 *
 * Wire: canonical CBOR `[1, from, seq, status, sig]`, sig = Ed25519 over
 * `signedBytes(networkId, 'heartbeat', cbor([1, from, seq, status]))`; status is a map
 * `{ tasks, paused, events, root, every }` (tasks completed, whether the node takes work, ledger
 * size and state root, and the author's heartbeat period in ms). About 200 bytes. A peer is stale
 * after the longer of this node's `staleMs` and three of the peer's own periods, so nodes with
 * different periods do not drop each other.
 *
 * Schedule: the default period is 15 s, because heartbeats were most of what an idle node sends
 * (each one is gossiped to every mesh peer and forwarded once more by each: at 5 s, ~19 KB/min of
 * an idle node's ~32 KB/min on a 3-node cluster, bench/network.ts idle()). Two rules keep a long
 * period from making newcomers wait for it:
 * - Answer a newcomer: a peer that becomes live (first heard, or back from stale) is answered with
 *   a heartbeat at once, so it sees us within a round trip instead of within a period. Answers are
 *   coalesced to at most one per ANSWER_GAP_MS (a newcomer seen within that gap of our last beat
 *   gets the next one, then), so a burst of joins costs one beat, not one each.
 * - A fast start: after `start()` the first beats come 1, 2, 4, 8... s apart until the period is
 *   reached, since the very first one usually goes nowhere (gossip subscriptions are not exchanged
 *   yet) and a newcomer would otherwise be unseen for a whole period.
 */
import { decodeCanonical, encodeCanonical } from '../core/codec/index.ts'
import type { CborValue } from '../core/codec/index.ts'
import { toKey } from '../core/bytes.ts'
import { signedBytes, verifyEd25519 } from '../core/identity/index.ts'
import type { Identity } from '../core/identity/index.ts'
import type { Clock, Transport } from '../ports.ts'

/** The gossip topic heartbeats travel on. */
export const HEARTBEAT_TOPIC = 'edge-net/heartbeat/1'
/** Largest heartbeat accepted (bytes). */
export const MAX_HEARTBEAT_BYTES = 512
const VERSION = 1
/** Answers to newcomers are at most this often (ms). */
export const ANSWER_GAP_MS = 1000
/** The first gap of the fast start (ms); it doubles up to the period. */
const FIRST_GAP_MS = 1000

/** What a heartbeat says about its author. @example { tasks: 12, paused: false, events: 340, root } */
export interface HeartbeatStatus {
  /** Tasks this node has completed as a worker. */
  readonly tasks: number
  readonly paused: boolean
  /** Events in its ledger replica. */
  readonly events: number
  /** Its ledger's state root (32 bytes). */
  readonly root: Uint8Array
}

/** One peer as presence sees it. */
export interface PeerPresence {
  readonly id: Uint8Array
  /** Local clock time of its last valid heartbeat (ms). */
  readonly lastSeen: number
  readonly live: boolean
  readonly status: HeartbeatStatus
}

export interface PresenceInit {
  readonly identity: Identity
  readonly networkId: string
  readonly transport: Transport
  /** This node's status, read for every heartbeat. */
  readonly status: () => HeartbeatStatus
  readonly clock?: Clock
  /** Heartbeat period (default 15 s). */
  readonly intervalMs?: number
  /** Silence after which a peer is stale (default 3 × intervalMs). */
  readonly staleMs?: number
  /** Beat 1, 2, 4... s apart after `start()` until the period is reached (default true). */
  readonly fastStart?: boolean
  readonly onLive?: (peer: Uint8Array) => void
  readonly onStale?: (peer: Uint8Array) => void
  /** A heartbeat was refused (malformed or forged); `peer` is whoever the transport says sent it (never the key a forgery names). */
  readonly onRefused?: (peer: Uint8Array) => void
}

interface Peer { id: Uint8Array, seq: number, lastSeen: number, live: boolean, status: HeartbeatStatus, every: number }

/**
 * Heartbeats and the live set. `handle` takes the node's messages on HEARTBEAT_TOPIC (the node's
 * dispatcher calls it); `start` begins publishing and checking for silence.
 *
 * @example
 * const presence = new Presence({ identity, networkId, transport, status: () => ({ tasks: 0, paused: false, events: ledger.size, root: ledger.stateRoot() }) })
 * presence.start()
 * presence.live() // peers heard from within staleMs
 */
export class Presence {
  readonly #init: PresenceInit
  readonly #clock: Clock
  readonly intervalMs: number
  readonly staleMs: number
  readonly #peers = new Map<string, Peer>()
  #seq = 0
  #timer: ReturnType<typeof setTimeout> | null = null
  /** A coalesced answer to newcomers, waiting for ANSWER_GAP_MS since the last beat. */
  #answer: ReturnType<typeof setTimeout> | null = null
  /** Local clock at our last beat. */
  #beatAt = -Infinity
  /** Heartbeats refused (malformed, forged, replayed), by claimed author or transport sender. */
  readonly refused = new Map<string, number>()

  constructor (init: PresenceInit) {
    this.#init = init
    this.#clock = init.clock ?? { now: () => Date.now() }
    this.intervalMs = init.intervalMs ?? 15_000
    this.staleMs = init.staleMs ?? 3 * this.intervalMs
    if (!(this.intervalMs > 0) || !(this.staleMs > this.intervalMs)) throw new RangeError('intervalMs must be positive and staleMs longer than it')
  }

  /** Publish now, then 1, 2, 4... s apart up to every intervalMs; check for stale peers as often; answer newcomers. */
  start (): void {
    if (this.#timer !== null) return
    void this.beat()
    const next = (gap: number): void => {
      this.#timer = setTimeout(() => { void this.beat(); this.check(); next(Math.min(gap * 2, this.intervalMs)) }, gap)
    }
    next(this.#init.fastStart === false ? this.intervalMs : Math.min(FIRST_GAP_MS, this.intervalMs))
  }

  stop (): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    if (this.#answer !== null) clearTimeout(this.#answer)
    this.#timer = null
    this.#answer = null
  }

  /** Answer a newcomer (only while started): beat now, or once ANSWER_GAP_MS has passed since the last beat. */
  #answerNewcomer (): void {
    if (this.#timer === null || this.#answer !== null) return
    const wait = this.#beatAt + ANSWER_GAP_MS - this.#clock.now()
    if (wait <= 0) { void this.beat(); return }
    this.#answer = setTimeout(() => { this.#answer = null; if (this.#timer !== null) void this.beat() }, wait)
  }

  /** Sign and publish one heartbeat. */
  async beat (): Promise<void> {
    const { identity, networkId, transport } = this.#init
    this.#seq = Math.max(this.#seq + 1, this.#clock.now())
    this.#beatAt = this.#clock.now()
    const s = this.#init.status()
    const body: CborValue[] = [VERSION, identity.publicKey, this.#seq, { tasks: s.tasks, paused: s.paused, events: s.events, root: s.root, every: this.intervalMs }]
    const sig = await identity.sign(signedBytes(networkId, 'heartbeat', encodeCanonical(body)))
    try {
      transport.publish(HEARTBEAT_TOPIC, encodeCanonical([...body, sig]))
    } catch { /* the transport is closing */ }
  }

  /** Mark peers silent for longer than staleMs as stale. */
  check (): void {
    const now = this.#clock.now()
    for (const p of this.#peers.values()) {
      if (p.live && now - p.lastSeen > Math.max(this.staleMs, 3 * p.every)) {
        p.live = false
        this.#init.onStale?.(p.id)
      }
    }
  }

  /**
   * A message from the transport. Returns true if it was on HEARTBEAT_TOPIC (whether or not it was
   * valid). A valid heartbeat with a higher sequence than the author's last marks it live.
   */
  handle (from: Uint8Array, topic: string, data: Uint8Array): boolean {
    if (topic !== HEARTBEAT_TOPIC) return false
    void this.#receive(from, data)
    return true
  }

  async #receive (from: Uint8Array, data: Uint8Array): Promise<void> {
    const parsed = parseHeartbeat(data)
    if (parsed === null) { this.#refuse(from, from); return }
    const { author, seq, status, every, sig, body } = parsed
    const key = toKey(author)
    if (key === toKey(this.#init.identity.publicKey)) return
    const known = this.#peers.get(key)
    if (known !== undefined && seq <= known.seq) return // replayed or reordered: ignored
    if (!(await verifyEd25519(author, signedBytes(this.#init.networkId, 'heartbeat', encodeCanonical(body)), sig))) { this.#refuse(author, from); return }
    const again = this.#peers.get(key)
    if (again !== undefined && seq <= again.seq) return
    const now = this.#clock.now()
    const wasLive = again?.live ?? false
    this.#peers.set(key, { id: author, seq, lastSeen: now, live: true, status, every })
    if (!wasLive) {
      this.#init.onLive?.(author)
      this.#answerNewcomer()
    }
  }

  /** Count a refusal against the key a heartbeat named (or its sender); blame the sender, who is the transport's to prove. */
  #refuse (named: Uint8Array, sender: Uint8Array): void {
    const key = toKey(named)
    this.refused.set(key, (this.refused.get(key) ?? 0) + 1)
    this.#init.onRefused?.(sender)
  }

  /** Peers heard from within staleMs. */
  live (): PeerPresence[] {
    return [...this.#peers.values()].filter(p => p.live).map(snapshot)
  }

  /** Every peer ever heard from, live or stale. */
  peers (): PeerPresence[] {
    return [...this.#peers.values()].map(snapshot)
  }
}

function snapshot (p: Peer): PeerPresence {
  return { id: p.id, lastSeen: p.lastSeen, live: p.live, status: p.status }
}

/** Longest heartbeat period a peer may announce (ms): its staleness bound is three of them. */
const MAX_PERIOD_MS = 10 * 60_000

function parseHeartbeat (data: Uint8Array): { author: Uint8Array, seq: number, status: HeartbeatStatus, every: number, sig: Uint8Array, body: CborValue[] } | null {
  if (data.length > MAX_HEARTBEAT_BYTES) return null
  let v: CborValue
  try {
    v = decodeCanonical(data, MAX_HEARTBEAT_BYTES)
  } catch {
    return null
  }
  if (!Array.isArray(v) || v.length !== 5 || v[0] !== VERSION) return null
  const [, author, seq, status, sig] = v
  if (!(author instanceof Uint8Array) || author.length !== 32 || !(sig instanceof Uint8Array) || sig.length !== 64) return null
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return null
  if (typeof status !== 'object' || status === null || Array.isArray(status) || status instanceof Uint8Array) return null
  const s = status as Record<string, CborValue>
  const keys = Object.keys(s)
  if (keys.length !== 5) return null
  const { tasks, paused, events, root, every } = s
  if (typeof tasks !== 'number' || !Number.isSafeInteger(tasks) || tasks < 0 || typeof paused !== 'boolean') return null
  if (typeof events !== 'number' || !Number.isSafeInteger(events) || events < 0 || !(root instanceof Uint8Array) || root.length !== 32) return null
  if (typeof every !== 'number' || !Number.isSafeInteger(every) || every < 1 || every > MAX_PERIOD_MS) return null
  return { author, seq, status: { tasks, paused, events, root }, every, sig, body: v.slice(0, 4) }
}
