/**
 * The libp2p adapter: the `Transport` port over js-libp2p (issue 4 §1).
 *
 * @example
 * import { Libp2pTransport } from './adapters/libp2p/index.ts'
 * const transport = await Libp2pTransport.create({ identity, topics: ['edge-net/tasks/1'] })
 */
export { Libp2pTransport, DIRECT_PROTOCOL, DEFAULT_MAX_MESSAGE_BYTES, directProtocol } from './libp2p-transport.ts'
export type { Libp2pTransportInit, Libp2pTransportStats, Libp2pPeerStanding } from './libp2p-transport.ts'
export { DHT_PROTOCOL, MDNS_SERVICE_TAG, RELAY_HOP_PROTOCOL, resolveDhtMode } from './libp2p-node.ts'
export type { DhtMode } from './libp2p-node.ts'
export {
  PeerScoring, EDGE_NET_TOPICS, DEFAULT_SCORE_THRESHOLDS, DEFAULT_PENALTY_POLICY, DEFAULT_TOPIC_WEIGHTS,
  REPUTATION_WEIGHT, PENALTY_WEIGHT, TOPIC_SCORE_CAP, gossipScoreParams, gossipScoreThresholds
} from './peer-scoring.ts'
export type { PeerScoringInit, PeerStanding, PenaltyPolicy, ScoreThresholds } from './peer-scoring.ts'
export { TransportError, TRANSPORT_ERROR_CODES } from './errors.ts'
export type { TransportErrorCode } from './errors.ts'
export { MAX_TOPIC_BYTES, encodeDirectFrame, decodeDirectFrame } from './frame.ts'
export { libp2pPrivateKey, ed25519SeedFromPkcs8 } from './identity-key.ts'
