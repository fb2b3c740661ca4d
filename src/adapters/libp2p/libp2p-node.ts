/**
 * Assembles the js-libp2p 3 node behind Libp2pTransport: which transports, discovery mechanisms
 * and services run, with which settings. Kept apart from the transport so the Transport port's
 * logic (libp2p-transport.ts) does not drown in configuration.
 *
 * - Transports: TCP, WebSockets (the listener a browser can reach) and the circuit relay v2 client
 *   (dial `/p2p-circuit` addresses; listen on `<relay>/p2p-circuit` to be reachable through a
 *   relay). Noise encrypts, Yamux multiplexes.
 * - Discovery: the bootstrap list, mDNS (service tag `_edge-net._udp.local`, so a LAN full of IPFS
 *   nodes does not join us) and the Kademlia DHT (libp2p kad-dht spec) on our own protocol id
 *   `/edge-net/kad/1.0.0`, apart from the public IPFS "Amino" DHT.
 * - Services: identify, ping, gossipsub (scored, see peer-scoring.ts), kad-dht, and the circuit
 *   relay v2 server when asked.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import { gossipsub } from '@libp2p/gossipsub'
import type { GossipSub } from '@libp2p/gossipsub'
import type { TopicScoreParams } from '@libp2p/gossipsub/score'
import { identify } from '@libp2p/identify'
import type { Identify } from '@libp2p/identify'
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import type { KadDHT } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import type { Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { isPrivate } from '@libp2p/utils'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { toHex } from '../../core/bytes.ts'
import type { Libp2p, Libp2pOptions } from 'libp2p'
import { gossipScoreParams, gossipScoreThresholds } from './peer-scoring.ts'
import type { ScoreThresholds } from './peer-scoring.ts'

/** Our DHT protocol id: a private Kademlia network, not the IPFS one. @example DHT_PROTOCOL === '/edge-net/kad/1.0.0' */
export const DHT_PROTOCOL = '/edge-net/kad/1.0.0'
/** The mDNS service tag edge-net nodes answer. @example MDNS_SERVICE_TAG === '_edge-net._udp.local' */
export const MDNS_SERVICE_TAG = '_edge-net._udp.local'
/** The circuit relay v2 hop protocol a relay server advertises (libp2p relay v2 spec). @example RELAY_HOP_PROTOCOL */
export const RELAY_HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'

/** How often libp2p's connection monitor pings each connection (ms; libp2p's default is 10 000). @example CONNECTION_PING_MS === 60_000 */
export const CONNECTION_PING_MS = 60_000

/** How the DHT answers queries: see {@link resolveDhtMode}. */
export type DhtMode = 'auto' | 'server' | 'client'

/** The services every edge-net libp2p node carries (dht and relay when enabled). */
export type EdgeServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
  dht?: KadDHT
  relay?: CircuitRelayService
}

/** Everything {@link createEdgeLibp2p} needs, already validated by the transport. */
export interface EdgeNodeConfig {
  readonly privateKey: PrivateKey
  readonly listen: readonly string[]
  readonly bootstrap: readonly string[]
  readonly mdns: boolean
  readonly dht: boolean
  readonly dhtMode: DhtMode
  readonly relay: boolean
  readonly relayMaxReservations: number
  readonly topics: ReadonlySet<string>
  readonly topicScoreParams: Readonly<Record<string, Partial<TopicScoreParams>>>
  readonly thresholds: ScoreThresholds
  readonly appScore: (peerId: string) => number
  readonly gater: ConnectionGater
  readonly maxConnections: number
  readonly dialTimeoutMs: number
  readonly maxGossipBytes: number
}

/**
 * The DHT mode actually used. 'auto' means: a node that listens only on private, loopback or
 * unspecified addresses is on a LAN or a loopback cluster where every peer is dialable, so it
 * serves (kad-dht's own LAN recipe: clientMode false, private addresses kept); any other node
 * lets kad-dht decide, which serves once identify confirms a public address and is a client
 * until then (the libp2p recommendation: an undialable server only slows queries down).
 *
 * @example
 * resolveDhtMode('auto', ['/ip4/127.0.0.1/tcp/0']) // 'server'
 */
export function resolveDhtMode (mode: DhtMode, listen: readonly string[]): DhtMode {
  if (mode !== 'auto') return mode
  // A `<relay>/p2p-circuit` address names the relay's IP, not a way to dial us directly.
  const ip = listen.map(a => multiaddr(a)).filter(a => {
    const names = a.getComponents().map(c => c.name)
    return !names.includes('p2p-circuit') && (names.includes('ip4') || names.includes('ip6'))
  })
  if (ip.length === 0) return 'client'
  return ip.every(a => isPrivate(a) || isUnspecified(a)) ? 'server' : 'auto'
}

function isUnspecified (a: ReturnType<typeof multiaddr>): boolean {
  return a.getComponents().some(c => (c.name === 'ip4' && c.value === '0.0.0.0') || (c.name === 'ip6' && c.value === '::'))
}

/** A gossipsub message's origin and sequence number, as one string (see fastMsgIdFn above). */
function fastMessageId (msg: { from?: Uint8Array, seqno?: Uint8Array }): string {
  return `${toHex(msg.from ?? new Uint8Array(0))}:${toHex(msg.seqno ?? new Uint8Array(0))}`
}

/**
 * Build (not start) the libp2p node.
 *
 * @example
 * const node = await createEdgeLibp2p(config)
 * await node.start()
 */
export async function createEdgeLibp2p (config: EdgeNodeConfig): Promise<Libp2p<EdgeServices>> {
  const peerDiscovery: NonNullable<Libp2pOptions<EdgeServices>['peerDiscovery']> = []
  if (config.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: [...config.bootstrap] }))
  if (config.mdns) peerDiscovery.push(mdns({ serviceTag: MDNS_SERVICE_TAG }))
  const services: Record<string, unknown> = {
    identify: identify(),
    ping: ping(),
    pubsub: gossipsub({
      // Delivery is fire-and-forget (src/ports.ts): a publication with no subscriber yet is not
      // an error.
      allowPublishToZeroTopicPeers: true,
      emitSelf: false,
      // Origin signatures on every message: the `from` we report is proven (gossipsub v1.1).
      globalSignaturePolicy: 'StrictSign',
      // Duplicates dropped before their signature is checked. Under StrictSign a message's id is
      // its origin and sequence number (msgIdFnStrictSign), so this names the same message; only
      // messages that validated enter the fast-id cache, so a forgery cannot shadow a real one.
      // Without it every copy a mesh peer forwards is verified again (~35 % of a replica's main
      // thread in the 20-node ledger burst).
      fastMsgIdFn: fastMessageId,
      maxInboundDataLength: config.maxGossipBytes,
      // A browser reached through a relay still gossips (within the relay's limits).
      runOnLimitedConnection: true,
      scoreParams: gossipScoreParams(config.topics, config.topicScoreParams, config.appScore),
      scoreThresholds: gossipScoreThresholds(config.thresholds)
    })
  }
  if (config.dht) {
    const mode = resolveDhtMode(config.dhtMode, config.listen)
    services.dht = kadDHT({
      protocol: DHT_PROTOCOL,
      // undefined = kad-dht switches by itself (server once a public address is confirmed).
      ...(mode === 'auto' ? {} : { clientMode: mode === 'client' }),
      peerInfoMapper: mode === 'auto' ? removePrivateAddressesMapper : passthroughMapper
    })
  }
  if (config.relay) {
    services.relay = circuitRelayServer({
      // Default relay v2 limits stay on (2 min, 128 KiB per relayed connection): a relay is for
      // reaching a peer and upgrading, not for carrying its traffic for good.
      reservations: { maxReservations: config.relayMaxReservations }
    })
  }
  return await createLibp2p<EdgeServices>({
    // Started by the transport once its handlers are in place, so no early peer meets a node
    // that does not speak the direct protocol yet.
    start: false,
    privateKey: config.privateKey,
    addresses: { listen: [...config.listen] },
    transports: [tcp(), webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    connectionGater: config.gater,
    // libp2p's connection monitor pings every connection (a new stream, multistream-select and 32
    // bytes each way) every 10 s by default, to measure round trips and abort dead links: ~7 KB/min
    // of an idle node's ~32 KB/min on a 3-node cluster (bench/network.ts idle()). Once a minute is
    // enough here: a peer that dies closes its TCP connection, which we see at once; only a link
    // that goes silent without a FIN waits for the ping, and heartbeats already call such a peer
    // stale after three periods (45 s). Yamux keepalive (30 s) keeps NAT mappings open meanwhile.
    connectionMonitor: { pingInterval: CONNECTION_PING_MS },
    connectionManager: {
      maxConnections: config.maxConnections,
      // A burst of half-open inbound dials must not starve established peers.
      maxIncomingPendingConnections: Math.max(4, Math.ceil(config.maxConnections / 8)),
      dialTimeout: config.dialTimeoutMs
    },
    services: services as NonNullable<Libp2pOptions<EdgeServices>['services']>
  })
}
