/**
 * The `Transport` port (src/ports.ts) over js-libp2p 3 (the node itself is assembled in
 * libp2p-node.ts: TCP and WebSockets listeners, circuit relay v2, Noise, Yamux, identify, ping,
 * kad-dht, mDNS, bootstrap); gossipsub (`@libp2p/gossipsub`, libp2p gossipsub v1.1 spec) for
 * `publish`, and length-prefixed, size-capped stream protocols for `send`: each topic named in
 * `directTopics` has its own protocol, `/<topic>` (the node's are `/edge-net/task-direct/1` for
 * claims, assignments, commits, reveals and settlement, and `/edge-net/ledger-sync/1` for
 * Merkle-range sync), whose frames are the message alone; any other topic travels on the generic
 * '/edge-net/direct/1', whose frames name their topic (frame.ts).
 *
 * The libp2p peer id is derived from the node's own Ed25519 identity key (identity-key.ts), so
 * Noise proves that the remote end of every connection holds the private key of the public key we
 * report as `from`: for a direct message it is the connection's remote peer; for a gossiped one it
 * is the origin's key, checked by gossipsub's StrictSign policy (each message signed by its
 * author). Hence `authenticated` is true.
 *
 * Size cap: publish() and send() throw TransportError ERR_MESSAGE_TOO_LARGE for data longer than
 * `maxMessageBytes` (default 1 MiB) and nothing is sent; a peer that sends a larger frame anyway
 * has its stream aborted and the frame dropped (gossipsub drops larger RPCs the same way).
 *
 * Misbehaviour: a protocol that receives invalid data calls `penalize(peer, reason)`; the peer's
 * gossipsub score falls (peer-scoring.ts) until it is graylisted (its RPCs ignored, its authored
 * publications no longer delivered here) and then banned (disconnected, connections refused).
 *
 * Discovery: peers found by mDNS, the DHT or the bootstrap list are dialled while fewer than
 * `minConnections` are open (js-libp2p 3 has no auto-dialler of its own).
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { TopicScoreParams } from '@libp2p/gossipsub/score'
import type { AbortOptions, Connection, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import { toKey } from '../../core/bytes.ts'
import type { Identity } from '../../core/identity/index.ts'
import type { MessageHandler, Transport } from '../../ports.ts'
import { TransportError } from './errors.ts'
import { MAX_TOPIC_BYTES, decodeDirectFrame, encodeDirectFrame, topicBytes } from './frame.ts'
import { libp2pPrivateKey } from './identity-key.ts'
import { createEdgeLibp2p } from './libp2p-node.ts'
import type { DhtMode, EdgeServices } from './libp2p-node.ts'
import { PeerScoring } from './peer-scoring.ts'
import type { PenaltyPolicy, PeerStanding, ScoreThresholds } from './peer-scoring.ts'

/** The direct-message stream protocol. @example DIRECT_PROTOCOL === '/edge-net/direct/1' */
export const DIRECT_PROTOCOL = '/edge-net/direct/1'
/** Default cap on one message's data, in bytes (1 MiB). @example DEFAULT_MAX_MESSAGE_BYTES === 1048576 */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
/** The largest cap an operator may set (each message is held whole in memory: 256 MiB). */
const MAX_MESSAGE_BYTES_LIMIT = 256 * 1024 * 1024
/** Room for gossipsub's RPC envelope (signature, key, seqno, topic) above the data cap. */
const GOSSIP_ENVELOPE_BYTES = 64 * 1024
/** Direct messages queued for one peer beyond which new ones are dropped (back-pressure). */
const MAX_QUEUED_PER_PEER = 256
/** Streams per connection, each way, for each direct protocol. */
const STREAM_LIMITS = { maxInboundStreams: 8, maxOutboundStreams: 8, runOnLimitedConnection: true }
/** Loopback TCP and WebSockets on free ports. */
const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws']

/** Options of {@link Libp2pTransport.create}. */
export interface Libp2pTransportInit {
  /** The node's identity: its Ed25519 key becomes the libp2p peer key. */
  readonly identity: Identity
  /**
   * Multiaddrs to listen on: TCP (`/ip4/…/tcp/N`), WebSockets (`/ip4/…/tcp/N/ws`) and relay
   * reservations (`<relay multiaddr>/p2p-circuit`). Default ['/ip4/127.0.0.1/tcp/0',
   * '/ip4/127.0.0.1/tcp/0/ws'] (loopback, free ports).
   */
  readonly listen?: readonly string[]
  /** Multiaddrs (with /p2p/<peer id>) dialled at start and kept as discovery sources. */
  readonly bootstrap?: readonly string[]
  /** Discover peers on the LAN with mDNS (service `_edge-net._udp.local`). Default true. */
  readonly mdns?: boolean
  /** Run the Kademlia DHT (peer routing and discovery, protocol /edge-net/kad/1.0.0). Default true. */
  readonly dht?: boolean
  /** DHT server/client mode; 'auto' (default) as {@link resolveDhtMode} explains. */
  readonly dhtMode?: DhtMode
  /** Serve as a circuit relay v2 (hop) for peers that cannot be dialled directly. Default false. */
  readonly relay?: boolean
  /** Most relay reservations held at once when `relay` is on. Default 32. */
  readonly relayMaxReservations?: number
  /**
   * Gossipsub topics this node subscribes to at start: it receives publications on these only
   * (the port has no subscribe(); the runtime's topic is 'edge-net/tasks/1'). Default [].
   */
  readonly topics?: readonly string[]
  /** Our reputation of a peer in [0, 1], the gossipsub application-specific score (P5). */
  readonly scoreOf?: (peer: Uint8Array) => number
  /** Per-topic gossipsub score parameters merged over edge-net's defaults (peer-scoring.ts). */
  readonly topicScoreParams?: Readonly<Record<string, Partial<TopicScoreParams>>>
  /** Gossip, publish and graylist score thresholds. Default -10, -50, -80 (gossipsub's). */
  readonly scoreThresholds?: Partial<ScoreThresholds>
  /** Penalty decay and ban bound. Default half-life 10 min, ban after 10 for 15 min. */
  readonly penalties?: Partial<PenaltyPolicy>
  /** Largest `data` accepted by publish/send and from peers, bytes. Default 1 MiB. */
  readonly maxMessageBytes?: number
  /** Most open connections (libp2p connection manager). Default 64. */
  readonly maxConnections?: number
  /** Discovered peers are dialled while fewer connections than this are open. Default min(8, maxConnections). */
  readonly minConnections?: number
  /** Timeout for opening a direct stream (dial included), ms. Default 5000. */
  readonly dialTimeoutMs?: number
  /**
   * Direct-message topics that get a stream protocol of their own, `/<topic>` (see
   * {@link directProtocol}): a peer can tell what a stream carries, and refuse or limit one kind
   * of traffic, from the protocol id alone (libp2p's protocol negotiation). Other topics share
   * '/edge-net/direct/1'. Both ends must agree on the list for a topic. Default [].
   */
  readonly directTopics?: readonly string[]
}

/**
 * The stream protocol of a direct topic listed in `directTopics`: '/' + topic.
 *
 * @example
 * directProtocol('edge-net/ledger-sync/1') // '/edge-net/ledger-sync/1'
 */
export function directProtocol (topic: string): string {
  topicBytes(topic)
  return `/${topic}`
}

/** Counters of one transport. */
export interface Libp2pTransportStats {
  /** Direct frames written to a stream. */
  sent: number
  /** Gossip publications handed to gossipsub. */
  published: number
  /** Messages (direct and gossip) handed to the handler. */
  received: number
  /** Direct messages lost: dial/stream failures, full queue, unknown or self target. */
  dropped: number
  /** Inbound frames refused: oversized, malformed, or from a key that is not Ed25519. */
  refused: number
  /** Inbound messages ignored because their author or sender is graylisted or banned. */
  ignored: number
  /** Calls to penalize(). */
  penalties: number
  /** Peers banned (disconnected and refused) by penalize(). */
  bans: number
  /** Dials started for peers found by discovery (mDNS, DHT, bootstrap). */
  discoveryDials: number
}

/** A peer's standing as penalize() and standing() report it. */
export interface Libp2pPeerStanding extends PeerStanding {
  /** Gossipsub's score of the peer (0 for a peer it does not know; refreshed once a heartbeat). */
  readonly score: number
}

interface Outbox {
  readonly protocol: string
  chain: Promise<void>
  queued: number
  lp: LengthPrefixedStream<Stream> | undefined
  stream: Stream | undefined
}

/**
 * @example
 * const t = await Libp2pTransport.create({ identity, topics: [TASK_TOPIC] })
 * await t.dial(otherAddress)
 * const node = await EdgeNode.create({ identity, ledger, transport: t })
 */
export class Libp2pTransport implements Transport {
  readonly self: Uint8Array
  /** Noise proves the connection's peer key and gossipsub's StrictSign the author's: see the file header. */
  readonly authenticated = true
  /** The cap on one message's data, bytes. */
  readonly maxMessageBytes: number
  readonly stats: Libp2pTransportStats = { sent: 0, published: 0, received: 0, dropped: 0, refused: 0, ignored: 0, penalties: 0, bans: 0, discoveryDials: 0 }
  readonly #node: Libp2p<EdgeServices>
  readonly #scoring: PeerScoring
  readonly #topics: ReadonlySet<string>
  readonly #dialTimeoutMs: number
  readonly #minConnections: number
  /** Kept outgoing streams, by peer key and then by protocol. */
  readonly #outboxes = new Map<string, Map<string, Outbox>>()
  /** Direct topic -> its own protocol (directTopics). */
  readonly #directProtocols: ReadonlyMap<string, string>
  readonly #discoveryDials = new Set<string>()
  #handler: MessageHandler | null = null
  #peerDown: ((peer: Uint8Array) => void) | null = null
  #closed = false
  #closing: Promise<void> | undefined

  private constructor (node: Libp2p<EdgeServices>, scoring: PeerScoring, self: Uint8Array, topics: ReadonlySet<string>, maxMessageBytes: number, dialTimeoutMs: number, minConnections: number, directProtocols: ReadonlyMap<string, string>) {
    this.#directProtocols = directProtocols
    this.#node = node
    this.#scoring = scoring
    this.self = self
    this.#topics = topics
    this.maxMessageBytes = maxMessageBytes
    this.#dialTimeoutMs = dialTimeoutMs
    this.#minConnections = minConnections
  }

  /**
   * Start a libp2p node for this identity and listen. Throws ERR_BAD_TRANSPORT_OPTIONS (an option
   * out of range or an address that is not a multiaddr), ERR_BAD_TOPIC, ERR_BAD_TRANSPORT_IDENTITY.
   *
   * @example
   * const t = await Libp2pTransport.create({ identity, listen: ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws'], bootstrap: [addr] })
   */
  static async create (init: Libp2pTransportInit): Promise<Libp2pTransport> {
    const maxMessageBytes = init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    const maxConnections = init.maxConnections ?? 64
    const minConnections = init.minConnections ?? Math.min(8, maxConnections)
    const dialTimeoutMs = init.dialTimeoutMs ?? 5000
    const relayMaxReservations = init.relayMaxReservations ?? 32
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1 || maxMessageBytes > MAX_MESSAGE_BYTES_LIMIT) {
      throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'maxMessageBytes must be an integer in 1..256 MiB')
    }
    if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'maxConnections must be a positive integer')
    if (!Number.isSafeInteger(minConnections) || minConnections < 0 || minConnections > maxConnections) {
      throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'minConnections must be an integer in 0..maxConnections')
    }
    if (!(dialTimeoutMs > 0)) throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'dialTimeoutMs must be positive')
    if (!Number.isSafeInteger(relayMaxReservations) || relayMaxReservations < 1) throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'relayMaxReservations must be a positive integer')
    const dhtMode = init.dhtMode ?? 'auto'
    if (dhtMode !== 'auto' && dhtMode !== 'server' && dhtMode !== 'client') throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', "dhtMode must be 'auto', 'server' or 'client'")
    if (init.scoreOf !== undefined && typeof init.scoreOf !== 'function') throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'scoreOf must be a function')
    const topics = new Set(init.topics ?? [])
    for (const topic of topics) topicBytes(topic)
    const directProtocols = new Map((init.directTopics ?? []).map(topic => [topic, directProtocol(topic)]))
    if ([...directProtocols.values()].includes(DIRECT_PROTOCOL)) throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', `a direct topic may not map to ${DIRECT_PROTOCOL}`)
    let listen: string[]
    let bootstrapList: string[]
    try {
      listen = (init.listen ?? DEFAULT_LISTEN).map(a => multiaddr(a).toString())
      bootstrapList = (init.bootstrap ?? []).map(a => multiaddr(a).toString())
    } catch (error) {
      throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'a listen or bootstrap address is not a multiaddr', { cause: error })
    }
    const scoring = new PeerScoring({
      ...(init.scoreOf === undefined ? {} : { scoreOf: init.scoreOf }),
      ...(init.scoreThresholds === undefined ? {} : { thresholds: init.scoreThresholds }),
      ...(init.penalties === undefined ? {} : { penalties: init.penalties })
    })
    const isBanned = (peer: PeerId): boolean => peer.publicKey?.type === 'Ed25519' && scoring.banned(peer.publicKey.raw)
    const privateKey = await libp2pPrivateKey(init.identity)
    const node = await createEdgeLibp2p({
      privateKey,
      listen,
      bootstrap: bootstrapList,
      mdns: init.mdns ?? true,
      dht: init.dht ?? true,
      dhtMode,
      relay: init.relay ?? false,
      relayMaxReservations,
      topics,
      topicScoreParams: init.topicScoreParams ?? {},
      thresholds: scoring.thresholds,
      appScore: (id) => {
        try {
          const key = peerIdFromString(id).publicKey
          return key?.type === 'Ed25519' ? scoring.appScore(key.raw) : 0
        } catch {
          return 0
        }
      },
      // A banned peer is refused both ways, before any protocol runs on the connection.
      gater: {
        denyDialPeer: isBanned,
        denyInboundEncryptedConnection: isBanned,
        denyOutboundEncryptedConnection: isBanned
      },
      maxConnections,
      dialTimeoutMs,
      maxGossipBytes: maxMessageBytes + GOSSIP_ENVELOPE_BYTES
    })
    const transport = new Libp2pTransport(node, scoring, new Uint8Array(init.identity.publicKey), topics, maxMessageBytes, dialTimeoutMs, minConnections, directProtocols)
    try {
      await transport.#start()
    } catch (error) {
      await Promise.resolve(node.stop()).catch(() => {})
      throw error
    }
    return transport
  }

  async #start (): Promise<void> {
    const node = this.#node
    await node.handle(DIRECT_PROTOCOL, async (stream, connection) => { await this.#serve(stream, connection, undefined) }, STREAM_LIMITS)
    for (const [topic, protocol] of this.#directProtocols) {
      await node.handle(protocol, async (stream, connection) => { await this.#serve(stream, connection, topic) }, STREAM_LIMITS)
    }
    node.services.pubsub.addEventListener('message', (event) => {
      const msg = event.detail
      if (msg.type !== 'signed' || msg.key.type !== 'Ed25519' || !this.#topics.has(msg.topic)) return
      if (msg.data.length > this.maxMessageBytes) { this.stats.refused++; return }
      // Gossipsub ignores a graylisted peer's own RPCs; an honest relay may still forward what the
      // peer authored, and that is not delivered here either.
      if (this.#scoring.standing(msg.key.raw).graylisted) { this.stats.ignored++; return }
      this.#deliver(msg.key.raw, msg.topic, new Uint8Array(msg.data))
    })
    // Forget a departed peer's outbox (its stream died with the connection); a later send redials.
    node.addEventListener('peer:disconnect', (event) => {
      const key = event.detail.publicKey
      if (key === undefined) return
      const boxes = this.#outboxes.get(toKey(key.raw))
      for (const [protocol, box] of boxes ?? []) if (box.queued === 0) boxes?.delete(protocol)
      if (boxes?.size === 0) this.#outboxes.delete(toKey(key.raw))
      if (!this.#closed) this.#peerDown?.(new Uint8Array(key.raw))
    })
    node.addEventListener('peer:discovery', (event) => { this.#onDiscovered(event.detail.id) })
    await node.start()
    for (const topic of this.#topics) node.services.pubsub.subscribe(topic)
  }

  /**
   * Read one inbound direct stream until it ends: frames of `topic`'s own protocol, or (topic
   * undefined) frames of the generic protocol that name their topic.
   */
  async #serve (stream: Stream, connection: Connection, topic: string | undefined): Promise<void> {
    const key = connection.remotePeer.publicKey
    if (key?.type !== 'Ed25519') { this.stats.refused++; stream.abort(new Error('edge-net peers are Ed25519 keys')); return }
    const from = key.raw
    const lp = lpStream(stream, { maxDataLength: this.#maxFrameBytes(topic === undefined) })
    try {
      for (;;) {
        const bytes = (await lp.read()).subarray()
        // A plain Uint8Array copy: the frame may be a Node Buffer view into a pooled chunk.
        const frame = topic === undefined ? decodeDirectFrame(bytes) : { topic, data: new Uint8Array(bytes) }
        if (frame === undefined) { this.stats.refused++; continue }
        // The length prefix allows for the longest topic; a short topic does not buy more data.
        if (frame.data.length > this.maxMessageBytes) throw new TransportError('ERR_MESSAGE_TOO_LARGE', 'inbound frame above the cap')
        // A topic with a protocol of its own is accepted on that protocol only.
        if (topic === undefined && this.#directProtocols.has(frame.topic)) { this.stats.refused++; continue }
        // A peer banned while its stream was open: nothing more from it.
        if (this.#scoring.banned(from)) { this.stats.ignored++; stream.abort(new Error('banned')); return }
        this.#deliver(from, frame.topic, frame.data)
      }
    } catch (error) {
      // End of stream (UnexpectedEOFError) is the normal end; an oversized frame is refused.
      const name = (error as Error).name
      if (name === 'UnexpectedEOFError') { await stream.close().catch(() => {}); return }
      if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'TransportError') this.stats.refused++
      if (stream.status === 'open') stream.abort(error as Error)
    }
  }

  /** The largest frame on a direct protocol: the message, plus its topic on the generic one. */
  #maxFrameBytes (generic: boolean): number {
    return generic ? 1 + MAX_TOPIC_BYTES + this.maxMessageBytes : this.maxMessageBytes
  }

  /** Dial a peer found by mDNS, the DHT or the bootstrap list while we have too few connections. */
  #onDiscovered (peer: PeerId): void {
    if (this.#closed || peer.publicKey?.type !== 'Ed25519') return
    const key = toKey(peer.publicKey.raw)
    if (key === toKey(this.self) || this.#discoveryDials.has(key) || this.#scoring.banned(peer.publicKey.raw)) return
    if (this.#node.getConnections().length >= this.#minConnections || this.#node.getConnections(peer).length > 0) return
    this.#discoveryDials.add(key)
    this.stats.discoveryDials++
    this.#node.dial(peer, { signal: AbortSignal.timeout(this.#dialTimeoutMs) })
      .catch(() => {})
      .finally(() => { this.#discoveryDials.delete(key) })
  }

  #deliver (from: Uint8Array, topic: string, data: Uint8Array): void {
    if (this.#closed || this.#handler === null) return
    this.stats.received++
    try {
      // Plain Uint8Array copies: libp2p hands out Node Buffers (whose slice() is a view).
      this.#handler(new Uint8Array(from), topic, data)
    } catch {
      // A throwing handler must not break the stream loop or gossipsub's dispatch.
    }
  }

  #check (topic: string, data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) throw new TransportError('ERR_BAD_MESSAGE', 'data must be a Uint8Array')
    if (data.length > this.maxMessageBytes) {
      throw new TransportError('ERR_MESSAGE_TOO_LARGE', `message of ${data.length} bytes exceeds the ${this.maxMessageBytes}-byte cap`)
    }
    topicBytes(topic)
  }

  /**
   * Gossip to the topic's subscribers. Throws ERR_MESSAGE_TOO_LARGE, ERR_BAD_TOPIC or
   * ERR_BAD_MESSAGE for bad input (nothing sent), even after close(); otherwise never.
   *
   * @example
   * t.publish('edge-net/tasks/1', announcement)
   */
  publish (topic: string, data: Uint8Array): void {
    this.#check(topic, data)
    if (this.#closed) return
    this.stats.published++
    this.#node.services.pubsub.publish(topic, data).catch(() => {})
  }

  /**
   * Send one frame on this node's stream to `to` (opened, dialling if needed, on first use; kept
   * open, so frames to one peer arrive in order while the stream lives). Sending to oneself or to
   * a peer that cannot be reached drops the message (counted in `stats.dropped`). Throws, nothing
   * sent, for bad input: ERR_BAD_PEER_KEY, ERR_BAD_TOPIC, ERR_BAD_MESSAGE, ERR_MESSAGE_TOO_LARGE.
   *
   * @example
   * t.send(workerKey, 'edge-net/task-direct/1', frame)
   */
  send (to: Uint8Array, topic: string, data: Uint8Array): void {
    checkPeerKey(to)
    this.#check(topic, data)
    if (this.#closed) return
    const key = toKey(to)
    if (key === toKey(this.self)) { this.stats.dropped++; return }
    let peer: PeerId
    try {
      peer = peerIdFromPublicKey(publicKeyFromRaw(to))
    } catch {
      this.stats.dropped++
      return
    }
    const own = this.#directProtocols.get(topic)
    const protocol = own ?? DIRECT_PROTOCOL
    let boxes = this.#outboxes.get(key)
    if (boxes === undefined) {
      boxes = new Map()
      this.#outboxes.set(key, boxes)
    }
    let outbox = boxes.get(protocol)
    if (outbox === undefined) {
      outbox = { protocol, chain: Promise.resolve(), queued: 0, lp: undefined, stream: undefined }
      boxes.set(protocol, outbox)
    }
    if (outbox.queued >= MAX_QUEUED_PER_PEER) { this.stats.dropped++; return }
    const box = outbox
    // Copied either way: the write happens later, and the caller may reuse its buffer.
    const frame = own === undefined ? encodeDirectFrame(topic, data) : new Uint8Array(data)
    box.queued++
    box.chain = box.chain
      .then(async () => { await this.#write(box, peer, frame) })
      .catch(() => { this.stats.dropped++ })
      .finally(() => { box.queued-- })
  }

  async #write (box: Outbox, peer: PeerId, frame: Uint8Array): Promise<void> {
    if (this.#closed) throw new Error('closed')
    // A kept stream may have been closed by the peer since; retry once on a fresh one.
    for (let attempt = 0; attempt < 2; attempt++) {
      const fresh = box.lp === undefined
      try {
        if (box.lp === undefined || box.stream === undefined || box.stream.status !== 'open') {
          const stream = await this.#node.dialProtocol(peer, box.protocol, { signal: AbortSignal.timeout(this.#dialTimeoutMs), runOnLimitedConnection: true })
          box.stream = stream
          box.lp = lpStream(stream, { maxDataLength: this.#maxFrameBytes(box.protocol === DIRECT_PROTOCOL) })
        }
        await box.lp.write(frame, { signal: AbortSignal.timeout(this.#dialTimeoutMs) })
        this.stats.sent++
        return
      } catch (error) {
        box.stream?.abort(error as Error)
        box.stream = undefined
        box.lp = undefined
        if (fresh || this.#closed) throw error
      }
    }
  }

  onMessage (handler: MessageHandler): void { this.#handler = handler }

  /** Told when every connection to a peer has closed (libp2p's peer:disconnect). @example t.onPeerDown(p => console.log('lost', p)) */
  onPeerDown (handler: (peer: Uint8Array) => void): void { this.#peerDown = handler }

  /**
   * The multiaddrs this node listens on, with its /p2p/ peer id, for others to dial.
   *
   * @example
   * await other.dial(t.addresses()[0])
   */
  addresses (): string[] {
    return this.#node.getMultiaddrs().map(a => a.toString())
  }

  /**
   * Connect to a peer by multiaddr; resolves with its 32-byte public key once Noise has proven it.
   *
   * @example
   * const peerKey = await t.dial('/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...')
   */
  async dial (address: string, options: AbortOptions = {}): Promise<Uint8Array> {
    let target
    try {
      target = multiaddr(address)
    } catch (error) {
      throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', `not a multiaddr: ${address}`, { cause: error })
    }
    const connection = await this.#node.dial(target, options)
    const key = connection.remotePeer.publicKey
    if (key?.type !== 'Ed25519') {
      await connection.close()
      throw new TransportError('ERR_BAD_PEER_KEY', 'the remote peer is not an Ed25519 key')
    }
    return new Uint8Array(key.raw)
  }

  /**
   * The peers connected now, by public key.
   *
   * @example
   * t.peers().length
   */
  peers (): Uint8Array[] {
    return this.#node.getPeers().flatMap(p => p.publicKey?.type === 'Ed25519' ? [new Uint8Array(p.publicKey.raw)] : [])
  }

  /**
   * Count one penalty against `peer` for invalid data it sent (an event that fails verification,
   * a forged or malformed message; `reason` is for logs and metrics). Enough penalties graylist
   * the peer (gossipsub ignores its RPCs, and nothing it authors is delivered here); past the ban
   * bound it is disconnected and refused for `penalties.banMs`. Penalties halve every
   * `penalties.halfLifeMs`. Throws ERR_BAD_PEER_KEY for a key that is not 32 bytes.
   *
   * @example
   * if (!verifyEvent(event)) transport.penalize(from, 'invalid ledger event')
   */
  penalize (peer: Uint8Array, reason: string): Libp2pPeerStanding {
    const key = checkPeerKey(peer)
    void reason
    const wasBanned = this.#scoring.banned(key)
    this.stats.penalties++
    const standing = this.#scoring.penalize(key)
    if (standing.banned && !wasBanned) {
      this.stats.bans++
      for (const box of this.#outboxes.get(toKey(key))?.values() ?? []) box.stream?.abort(new Error('peer banned'))
      this.#outboxes.delete(toKey(key))
      if (!this.#closed) void this.#node.hangUp(peerIdFromPublicKey(publicKeyFromRaw(key))).catch(() => {})
    }
    return { ...standing, score: this.#gossipScore(key) }
  }

  /**
   * What this node thinks of `peer` now: reputation, decayed penalties, our app score, gossipsub's
   * score, and whether it is graylisted or banned. Throws ERR_BAD_PEER_KEY.
   *
   * @example
   * transport.standing(peer).graylisted
   */
  standing (peer: Uint8Array): Libp2pPeerStanding {
    const key = checkPeerKey(peer)
    return { ...this.#scoring.standing(key), score: this.#gossipScore(key) }
  }

  #gossipScore (key: Uint8Array): number {
    try {
      // getScore() is on the implementation, not on the exported GossipSub interface.
      const pubsub = this.#node.services.pubsub as unknown as { getScore: (id: string) => number }
      return pubsub.getScore(peerIdFromPublicKey(publicKeyFromRaw(key)).toString())
    } catch {
      return 0
    }
  }

  /**
   * Look a peer up by key (connected peers and the peer store first, then the DHT) and return the
   * multiaddrs it can be dialled on. Rejects when it cannot be found (a libp2p NotFoundError, or
   * the `signal`'s reason); throws ERR_BAD_PEER_KEY for a bad key.
   *
   * @example
   * const addrs = await t.findPeer(key, { signal: AbortSignal.timeout(5000) })
   * await t.dial(addrs[0])
   */
  async findPeer (peer: Uint8Array, options: AbortOptions = {}): Promise<string[]> {
    const id = peerIdFromPublicKey(publicKeyFromRaw(checkPeerKey(peer)))
    const info = await this.#node.peerRouting.findPeer(id, options)
    return info.multiaddrs.map(a => {
      const text = a.toString()
      return text.includes('/p2p/') ? text : `${text}/p2p/${id.toString()}`
    })
  }

  /**
   * Resolve once each of `peers` is connected and subscribed (as gossipsub saw it) to every topic
   * of this transport, so a publication from here reaches them. Rejects if `signal` aborts.
   *
   * @example
   * await t.ready([alice.publicKey, bob.publicKey], { signal: AbortSignal.timeout(5000) })
   */
  async ready (peers: readonly Uint8Array[], options: AbortOptions = {}): Promise<void> {
    const pubsub = this.#node.services.pubsub
    const done = (): boolean => peers.every(p => {
      const key = toKey(p)
      return [...this.#topics].every(topic => pubsub.getSubscribers(topic).some(s => s.publicKey !== undefined && toKey(s.publicKey.raw) === key)) &&
        this.#node.getPeers().some(s => s.publicKey !== undefined && toKey(s.publicKey.raw) === key)
    })
    if (done()) return
    await new Promise<void>((resolve, reject) => {
      const check = (): void => { if (done()) { cleanup(); resolve() } }
      const abort = (): void => { cleanup(); reject(options.signal?.reason ?? new Error('aborted')) }
      const cleanup = (): void => {
        pubsub.removeEventListener('subscription-change', check)
        this.#node.removeEventListener('peer:identify', check)
        this.#node.removeEventListener('connection:open', check)
        options.signal?.removeEventListener('abort', abort)
      }
      if (options.signal?.aborted === true) { abort(); return }
      pubsub.addEventListener('subscription-change', check)
      this.#node.addEventListener('peer:identify', check)
      this.#node.addEventListener('connection:open', check)
      options.signal?.addEventListener('abort', abort)
    })
  }

  /** Stop the libp2p node; idempotent. Nothing is delivered to this node's handler afterwards. */
  async close (): Promise<void> {
    this.#closed = true
    this.#closing ??= (async () => {
      for (const boxes of this.#outboxes.values()) for (const box of boxes.values()) box.stream?.abort(new Error('transport closed'))
      this.#outboxes.clear()
      await this.#node.stop()
    })()
    await this.#closing
  }
}

/** `peer` itself if it is a 32-byte key; throws ERR_BAD_PEER_KEY otherwise. */
function checkPeerKey (peer: Uint8Array): Uint8Array {
  if (!(peer instanceof Uint8Array) || peer.length !== 32) throw new TransportError('ERR_BAD_PEER_KEY', 'a peer is named by its 32-byte Ed25519 public key')
  return peer
}
