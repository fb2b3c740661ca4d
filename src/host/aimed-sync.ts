/**
 * Anti-entropy aimed by heartbeats: the schedule NodeHost runs LedgerSync's sessions on.
 *
 * LedgerSync's own `start({ intervalMs })` opens a session with a random peer every interval,
 * whatever it holds. But every heartbeat already carries its author's ledger state root
 * (src/runtime/presence.ts), and equal Merkle roots mean equal event sets: a session with a peer
 * whose last heartbeat showed our root can only end in "nothing to send". So each interval this
 * picks at random among the sync peers whose last heartbeat root differs from ours, or that we
 * have no heartbeat from (a peer not yet live, or one that does not beat), and none while every
 * live peer agrees. On an idle network that is no session at all (it was one every 5 s, both
 * ways: half of an idle node's anti-entropy bytes, bench/network.ts idle()); under load, when
 * roots differ all the time, it is the same one session per interval as before.
 *
 * What it relies on: a root that changes shows up in the author's next heartbeat, so a difference
 * is acted on within one heartbeat period plus one interval; gossip (LedgerSync.announce) and its
 * gap repair carry new events faster than that anyway. A peer that became live gets a session at
 * once (NodeHost's onLive), whatever its root.
 */
import { toKey } from '../core/bytes.ts'
import type { PeerPresence } from '../runtime/presence.ts'

/** What {@link startAimedSync} drives. */
export interface AimedSyncParts {
  /** The peers anti-entropy may pick (LedgerSync.peers()). */
  readonly peers: () => Uint8Array[]
  /** Peers heard from within their staleness bound, with their last heartbeat (Presence.live()). */
  readonly live: () => readonly PeerPresence[]
  /** This node's ledger state root now. */
  readonly root: () => Uint8Array
  /** Open one session (LedgerSync.syncWith); a refusal (busy, closed) is ignored. */
  readonly syncWith: (peer: Uint8Array) => Promise<unknown>
  readonly intervalMs: number
  /** Uniform [0, 1) (default Math.random: picking a peer needs no secrecy). */
  readonly random?: () => number
}

/**
 * The peers worth a session now: those whose last heartbeat root differs from `root`, or that
 * have no heartbeat in `live`.
 * @example syncTargets(sync.peers(), presence.live(), ledger.stateRoot())
 */
export function syncTargets (peers: readonly Uint8Array[], live: readonly PeerPresence[], root: Uint8Array): Uint8Array[] {
  const ours = toKey(root)
  const roots = new Map(live.map(p => [toKey(p.id), toKey(p.status.root)]))
  return peers.filter(peer => roots.get(toKey(peer)) !== ours)
}

/**
 * Every `intervalMs`, one session with a random peer among {@link syncTargets}. Returns `stop`.
 * @example const stop = startAimedSync({ peers: () => sync.peers(), live: () => presence.live(), root: () => ledger.stateRoot(), syncWith: p => sync.syncWith(p), intervalMs: 5000 })
 */
export function startAimedSync (parts: AimedSyncParts): () => void {
  if (!(parts.intervalMs >= 1 && parts.intervalMs <= 3_600_000)) throw new RangeError('intervalMs must be in 1..3600000')
  const random = parts.random ?? Math.random
  const timer = setInterval(() => {
    const targets = syncTargets(parts.peers(), parts.live(), parts.root())
    const pick = targets[Math.floor(random() * targets.length)]
    if (pick !== undefined) parts.syncWith(pick).catch(() => {})
  }, parts.intervalMs)
  return () => { clearInterval(timer) }
}
