/**
 * Who a ledger replicator syncs with, and what each peer has done: the peers it heard from on a
 * ledger topic plus those the caller listed (`addPeer`), with per-peer counters of valid events,
 * invalid events and malformed messages. A later layer graylists from these counts (issue 4 §1:
 * gossipsub peer scoring fed by our view); this file only counts.
 *
 * Bounded: at most MAX_TRACKED_PEERS peers are remembered; past that the oldest unlisted peer
 * without a running session is forgotten (its counts with it: an offender that cycles through
 * fresh keys is the identity layer's problem, keys are free).
 */
import { toKey } from '../core/bytes.ts'

/** Most peers a replicator keeps counters for. */
export const MAX_TRACKED_PEERS = 4096

/** What one peer has done, as this node saw it. @example sync.peerStats(peer)?.invalidEvents */
export interface PeerSyncStats {
  /** Events from this peer the ledger applied. */
  validEvents: number
  /** Events from this peer the ledger refused (ERR_SYNC_INVALID_EVENT each). */
  invalidEvents: number
  /** Messages from this peer that did not decode or were oversized (ERR_SYNC_MALFORMED, ERR_SYNC_OVERSIZED). */
  badMessages: number
  /** Sync sessions with this peer that completed. */
  sessions: number
  /** Sync sessions with this peer that timed out (not an offence: messages get lost). */
  timeouts: number
  /** Local clock when a well-formed message last came from this peer, or null. */
  lastHeard: number | null
}

/** @internal one tracked peer. */
export interface PeerEntry {
  readonly key: string
  readonly id: Uint8Array
  /** Given by `addPeer`: kept until `removePeer`, whatever happens. */
  listed: boolean
  /** Sent us a well-formed ledger message (so it speaks the protocol). */
  heard: boolean
  /** Sync sessions with this peer running now (both roles). */
  running: number
  /** Local clock of the last sync started because this peer's events had a gap. */
  lastGapSync: number
  /** Events received from this peer (valid or not). */
  received: number
  /** `received` will reach this once the peer has sent what a finished session owes us. */
  awaitReceived: number
  /** Local clock when events last came from this peer (or a session with it finished). */
  lastReceived: number
  readonly stats: PeerSyncStats
}

/** @internal the peer table of one replicator. */
export class PeerTable {
  readonly #peers = new Map<string, PeerEntry>()

  /** The entry for `id`, created if new. */
  get (id: Uint8Array): PeerEntry {
    const key = toKey(id)
    let entry = this.#peers.get(key)
    if (entry === undefined) {
      if (this.#peers.size >= MAX_TRACKED_PEERS) this.#evictOne()
      entry = {
        key,
        id: id.slice(),
        listed: false,
        heard: false,
        running: 0,
        lastGapSync: -Infinity,
        received: 0,
        awaitReceived: 0,
        lastReceived: -Infinity,
        stats: { validEvents: 0, invalidEvents: 0, badMessages: 0, sessions: 0, timeouts: 0, lastHeard: null }
      }
      this.#peers.set(key, entry)
    }
    return entry
  }

  /** The entry for `id` if tracked. */
  find (id: Uint8Array): PeerEntry | undefined { return this.#peers.get(toKey(id)) }

  /** Stop listing `id`; it stays a sync candidate only if heard from again. */
  remove (id: Uint8Array): void {
    const entry = this.#peers.get(toKey(id))
    if (entry === undefined) return
    entry.listed = false
    entry.heard = false
  }

  /** Peers to pick from for periodic anti-entropy. */
  candidates (isAllowed: (entry: PeerEntry) => boolean): PeerEntry[] {
    const out: PeerEntry[] = []
    for (const entry of this.#peers.values()) if ((entry.listed || entry.heard) && isAllowed(entry)) out.push(entry)
    return out
  }

  #evictOne (): void {
    for (const [key, entry] of this.#peers) {
      if (!entry.listed && entry.running === 0) { this.#peers.delete(key); return }
    }
  }
}

/** Offences of a peer: refused events plus malformed messages. @example offences(entry.stats) */
export function offences (stats: PeerSyncStats): number {
  return stats.invalidEvents + stats.badMessages
}
