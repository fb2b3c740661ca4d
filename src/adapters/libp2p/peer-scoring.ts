/**
 * Gossipsub peer scoring fed from edge-net's reputation and from protocol-level penalties.
 *
 * Gossipsub v1.1 (libp2p specs, pubsub/gossipsub/gossipsub-v1.1.md §"Peer Scoring") scores each
 * peer as a weighted sum of per-topic terms P1..P4 (capped by `topicScoreCap`), an
 * application-specific term P5, IP colocation P6 and behaviour penalties P7, and compares it with
 * three thresholds: below `gossip` a peer gets no gossip, below `publish` no flood publications,
 * below `graylist` every RPC it sends is ignored.
 *
 * Our P5 (weight 1) is `REPUTATION_WEIGHT * reputation - PENALTY_WEIGHT * penalties`: reputation
 * in [0, 1] comes from `scoreOf` (the ledger's view of the peer), penalties count the times a
 * protocol called `penalize()` for invalid data, halving every `halfLifeMs`. A peer is graylisted
 * here when P5 + TOPIC_SCORE_CAP < graylist: the topic terms can add at most the cap, so
 * gossipsub's own score is then below the threshold as well (once its per-heartbeat score cache
 * refreshes) and our verdict never disagrees with the router's. Past `banAfter` penalties the peer
 * is disconnected and refused for `banMs`.
 *
 * With the defaults (graylist -80, REPUTATION_WEIGHT 10, PENALTY_WEIGHT 20) a peer is graylisted
 * after 5 penalties (6 with reputation 1) and banned after 10.
 */
import { createPeerScoreParams, createTopicScoreParams, validatePeerScoreParams, validatePeerScoreThresholds } from '@libp2p/gossipsub/score'
import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from '@libp2p/gossipsub/score'
import { toKey } from '../../core/bytes.ts'
import { TransportError } from './errors.ts'

/**
 * The edge-net gossip topics that get their own score weights (they mirror TASK_TOPIC,
 * LEDGER_TOPIC and HEARTBEAT_TOPIC of src/runtime; a test keeps them equal).
 *
 * @example EDGE_NET_TOPICS.tasks === 'edge-net/tasks/1'
 */
export const EDGE_NET_TOPICS = {
  tasks: 'edge-net/tasks/1',
  ledger: 'edge-net/ledger/1',
  heartbeat: 'edge-net/heartbeat/1'
} as const

/** P5 points for a reputation of 1. @example REPUTATION_WEIGHT === 10 */
export const REPUTATION_WEIGHT = 10
/** P5 points lost per (undecayed) penalty. @example PENALTY_WEIGHT === 20 */
export const PENALTY_WEIGHT = 20
/** Cap on the positive sum of the topic terms (gossipsub `topicScoreCap`). @example TOPIC_SCORE_CAP === 10 */
export const TOPIC_SCORE_CAP = 10

/** Gossipsub's three score thresholds (all <= 0, graylist <= publish <= gossip). */
export interface ScoreThresholds {
  readonly gossip: number
  readonly publish: number
  readonly graylist: number
}

/** The gossipsub v1.1 defaults, which the spec's worked examples use. @example DEFAULT_SCORE_THRESHOLDS.graylist === -80 */
export const DEFAULT_SCORE_THRESHOLDS: ScoreThresholds = { gossip: -10, publish: -50, graylist: -80 }

/** When penalties decay and when they cost the connection. */
export interface PenaltyPolicy {
  /** A penalty's weight halves after this long, ms. Default 10 minutes. */
  readonly halfLifeMs: number
  /** Decayed penalty count at which the peer is disconnected and refused. Default 10. */
  readonly banAfter: number
  /** How long a banned peer is refused, ms. Default 15 minutes. */
  readonly banMs: number
}

/** @example DEFAULT_PENALTY_POLICY.banAfter === 10 */
export const DEFAULT_PENALTY_POLICY: PenaltyPolicy = { halfLifeMs: 10 * 60_000, banAfter: 10, banMs: 15 * 60_000 }

/**
 * Per-topic terms shared by every scored topic. P1 (time in mesh) is worth at most 3 after
 * 5 minutes; P2 (first deliveries) at most 5; P3/P3b (mesh delivery deficit) are off because our
 * topics are bursty (task announcements come in waves, a quiet minute is normal) and a deficit
 * penalty would prune honest peers; P4 (invalid messages: bad signature, rejected by a
 * validator) weighs -10 per squared count.
 */
const BASE_TOPIC_PARAMS: Partial<TopicScoreParams> = {
  topicWeight: 0.5,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 300,
  firstMessageDeliveriesWeight: 0.5,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 10,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.5
}

/**
 * Topic weights: tasks and ledger events carry value, heartbeats are frequent and cheap.
 *
 * @example DEFAULT_TOPIC_WEIGHTS['edge-net/heartbeat/1'] === 0.25
 */
export const DEFAULT_TOPIC_WEIGHTS: Readonly<Record<string, number>> = {
  [EDGE_NET_TOPICS.tasks]: 1,
  [EDGE_NET_TOPICS.ledger]: 1,
  [EDGE_NET_TOPICS.heartbeat]: 0.25
}

/** The inputs of {@link PeerScoring}. */
export interface PeerScoringInit {
  /** Our reputation of a peer, in [0, 1] (clamped; a throw or NaN counts as 0). Default: 0 for all. */
  readonly scoreOf?: (peer: Uint8Array) => number
  readonly thresholds?: Partial<ScoreThresholds>
  readonly penalties?: Partial<PenaltyPolicy>
  /** The clock, ms. Default Date.now. */
  readonly now?: () => number
}

/** What this node thinks of one peer now. */
export interface PeerStanding {
  /** `scoreOf(peer)`, clamped to [0, 1]. */
  readonly reputation: number
  /** The decayed penalty count. */
  readonly penalties: number
  /** Our P5 term. */
  readonly appScore: number
  /** Gossip publications authored or relayed by this peer are ignored. */
  readonly graylisted: boolean
  /** Connections to and from this peer are refused until `bannedUntil` (ms since epoch). */
  readonly banned: boolean
  readonly bannedUntil: number
}

interface PenaltyEntry { count: number, at: number, bannedUntil: number }

function finite (value: number | undefined, name: string): void {
  if (value !== undefined && !Number.isFinite(value)) throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', `${name} must be a finite number`)
}

/**
 * Penalty book and score function of one transport. Sans-I/O: the transport calls `penalize()`
 * and acts on the verdict (hang up on a ban); time comes from `now`.
 *
 * @example
 * const scoring = new PeerScoring({ scoreOf: peer => reputation.of(peer) })
 * scoring.penalize(peerKey) // { graylisted: false, banned: false, ... } until enough of them
 */
export class PeerScoring {
  readonly thresholds: ScoreThresholds
  readonly policy: PenaltyPolicy
  readonly #scoreOf: ((peer: Uint8Array) => number) | undefined
  readonly #now: () => number
  readonly #book = new Map<string, PenaltyEntry>()

  /** Throws ERR_BAD_TRANSPORT_OPTIONS for thresholds out of order or a policy out of range. */
  constructor (init: PeerScoringInit = {}) {
    const t = { ...DEFAULT_SCORE_THRESHOLDS, ...init.thresholds }
    const p = { ...DEFAULT_PENALTY_POLICY, ...init.penalties }
    finite(t.gossip, 'scoreThresholds.gossip')
    finite(t.publish, 'scoreThresholds.publish')
    finite(t.graylist, 'scoreThresholds.graylist')
    if (!(t.gossip <= 0 && t.publish <= t.gossip && t.graylist <= t.publish)) {
      throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'score thresholds must satisfy graylist <= publish <= gossip <= 0')
    }
    if (!(p.halfLifeMs > 0) || !(p.banAfter > 0) || !(p.banMs >= 0) || !Number.isFinite(p.banAfter) || !Number.isFinite(p.banMs)) {
      throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'penalties: halfLifeMs and banAfter must be positive, banMs non-negative')
    }
    this.thresholds = t
    this.policy = p
    this.#scoreOf = init.scoreOf
    this.#now = init.now ?? Date.now
  }

  #reputation (peer: Uint8Array): number {
    if (this.#scoreOf === undefined) return 0
    let r: number
    try {
      r = this.#scoreOf(new Uint8Array(peer))
    } catch {
      return 0
    }
    return Number.isNaN(r) ? 0 : Math.min(1, Math.max(0, r))
  }

  #count (entry: PenaltyEntry | undefined, now: number): number {
    if (entry === undefined) return 0
    return entry.count * 2 ** (-(Math.max(0, now - entry.at)) / this.policy.halfLifeMs)
  }

  /**
   * Count one penalty against `peer` (a 32-byte key) and return its new standing.
   *
   * @example
   * if (scoring.penalize(peer).banned) await hangUp(peer)
   */
  penalize (peer: Uint8Array): PeerStanding {
    const key = toKey(peer)
    const now = this.#now()
    const entry = this.#book.get(key)
    const count = this.#count(entry, now) + 1
    const next: PenaltyEntry = { count, at: now, bannedUntil: entry?.bannedUntil ?? 0 }
    if (count >= this.policy.banAfter) next.bannedUntil = Math.max(next.bannedUntil, now + this.policy.banMs)
    this.#book.set(key, next)
    return this.standing(peer)
  }

  /**
   * The standing of `peer` now.
   *
   * @example
   * scoring.standing(peer).graylisted
   */
  standing (peer: Uint8Array): PeerStanding {
    const now = this.#now()
    const entry = this.#book.get(toKey(peer))
    const penalties = this.#count(entry, now)
    const reputation = this.#reputation(peer)
    const appScore = REPUTATION_WEIGHT * reputation - PENALTY_WEIGHT * penalties
    const bannedUntil = entry?.bannedUntil ?? 0
    const banned = bannedUntil > now
    // Forget a peer whose penalties have decayed away and whose ban is over (bounded memory).
    if (entry !== undefined && !banned && penalties < 0.01) this.#book.delete(toKey(peer))
    return { reputation, penalties, appScore, graylisted: banned || appScore + TOPIC_SCORE_CAP < this.thresholds.graylist, banned, bannedUntil }
  }

  /** P5 of a peer. @example scoring.appScore(peer) */
  appScore (peer: Uint8Array): number { return this.standing(peer).appScore }

  /** Whether the peer is refused now. @example scoring.banned(peer) */
  banned (peer: Uint8Array): boolean {
    const entry = this.#book.get(toKey(peer))
    return entry !== undefined && entry.bannedUntil > this.#now()
  }

  /** How many peers have a live record (penalties or ban). @example scoring.size */
  get size (): number { return this.#book.size }
}

/**
 * Gossipsub `scoreParams` for `topics`: edge-net weights, `overrides` merged over them per topic,
 * our P5 through `appScore(peerIdString)`, and loopback exempt from the IP colocation term (a
 * loopback demo runs many honest nodes on 127.0.0.1). Throws ERR_BAD_TRANSPORT_OPTIONS when
 * gossipsub's validator refuses the result.
 *
 * @example
 * gossipsub({ scoreParams: gossipScoreParams(['edge-net/tasks/1'], {}, id => 0) })
 */
export function gossipScoreParams (
  topics: Iterable<string>,
  overrides: Readonly<Record<string, Partial<TopicScoreParams>>>,
  appScore: (peerId: string) => number
): PeerScoreParams {
  const perTopic: Record<string, TopicScoreParams> = {}
  for (const topic of new Set([...topics, ...Object.keys(overrides)])) {
    const weight = DEFAULT_TOPIC_WEIGHTS[topic]
    perTopic[topic] = createTopicScoreParams({ ...BASE_TOPIC_PARAMS, ...(weight === undefined ? {} : { topicWeight: weight }), ...overrides[topic] })
  }
  const params = createPeerScoreParams({
    topics: perTopic,
    topicScoreCap: TOPIC_SCORE_CAP,
    appSpecificScore: appScore,
    appSpecificWeight: 1,
    IPColocationFactorWhitelist: new Set(['127.0.0.1', '::1'])
  })
  try {
    validatePeerScoreParams(params)
  } catch (error) {
    throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', `topicScoreParams: ${(error as Error).message}`, { cause: error })
  }
  return params
}

/**
 * Gossipsub `scoreThresholds` from ours (acceptPX and opportunistic graft keep gossipsub's
 * defaults: 10 and 20).
 *
 * @example
 * gossipsub({ scoreThresholds: gossipScoreThresholds(DEFAULT_SCORE_THRESHOLDS) })
 */
export function gossipScoreThresholds (t: ScoreThresholds): PeerScoreThresholds {
  const out: PeerScoreThresholds = {
    gossipThreshold: t.gossip,
    publishThreshold: t.publish,
    graylistThreshold: t.graylist,
    acceptPXThreshold: 10,
    opportunisticGraftThreshold: 20
  }
  validatePeerScoreThresholds(out)
  return out
}
