/**
 * The `Transport` port (src/ports.ts) over js-libp2p 3: TCP, Noise, Yamux, identify, ping;
 * gossipsub (`@libp2p/gossipsub`, libp2p gossipsub v1.1 spec) for `publish`, and a length-prefixed,
 * size-capped stream protocol ('/edge-net/direct/1', see frame.ts) for `send`.
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
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { gossipsub } from '@libp2p/gossipsub'
import type { GossipSub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { Identify } from '@libp2p/identify'
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import type { Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Libp2p, Libp2pOptions } from 'libp2p'
import { toKey } from '../../core/bytes.ts'
import type { Identity } from '../../core/identity/index.ts'
import type { MessageHandler, Transport } from '../../ports.ts'
import { TransportError } from './errors.ts'
import { MAX_TOPIC_BYTES, decodeDirectFrame, encodeDirectFrame, topicBytes } from './frame.ts'
import { libp2pPrivateKey } from './identity-key.ts'

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

/** Options of {@link Libp2pTransport.create}. */
export interface Libp2pTransportInit {
  /** The node's identity: its Ed25519 key becomes the libp2p peer key. */
  readonly identity: Identity
  /** Multiaddrs to listen on. Default ['/ip4/127.0.0.1/tcp/0'] (loopback, a free port). */
  readonly listen?: readonly string[]
  /** Multiaddrs (with /p2p/<peer id>) dialled at start and kept as discovery sources. */
  readonly bootstrap?: readonly string[]
  /** Discover peers on the LAN with mDNS. Default false in this first step (issue 4 §1 wants true). */
  readonly mdns?: boolean
  /**
   * Gossipsub topics this node subscribes to at start: it receives publications on these only
   * (the port has no subscribe(); the runtime's topic is 'edge-net/tasks/1'). Default [].
   */
  readonly topics?: readonly string[]
  /** Largest `data` accepted by publish/send and from peers, bytes. Default 1 MiB. */
  readonly maxMessageBytes?: number
  /** Most open connections (libp2p connection manager). Default 64. */
  readonly maxConnections?: number
  /** Timeout for opening a direct stream (dial included), ms. Default 5000. */
  readonly dialTimeoutMs?: number
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
}

type Services = { identify: Identify, ping: Ping, pubsub: GossipSub }

interface Outbox {
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
  readonly stats: Libp2pTransportStats = { sent: 0, published: 0, received: 0, dropped: 0, refused: 0 }
  readonly #node: Libp2p<Services>
  readonly #topics: ReadonlySet<string>
  readonly #dialTimeoutMs: number
  readonly #outboxes = new Map<string, Outbox>()
  #handler: MessageHandler | null = null
  #closed = false
  #closing: Promise<void> | undefined

  private constructor (node: Libp2p<Services>, self: Uint8Array, topics: ReadonlySet<string>, maxMessageBytes: number, dialTimeoutMs: number) {
    this.#node = node
    this.self = self
    this.#topics = topics
    this.maxMessageBytes = maxMessageBytes
    this.#dialTimeoutMs = dialTimeoutMs
  }

  /**
   * Start a libp2p node for this identity and listen.
   *
   * @example
   * const t = await Libp2pTransport.create({ identity, listen: ['/ip4/0.0.0.0/tcp/4001'], bootstrap: [addr] })
   */
  static async create (init: Libp2pTransportInit): Promise<Libp2pTransport> {
    const maxMessageBytes = init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    const maxConnections = init.maxConnections ?? 64
    const dialTimeoutMs = init.dialTimeoutMs ?? 5000
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1 || maxMessageBytes > MAX_MESSAGE_BYTES_LIMIT) {
      throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'maxMessageBytes must be an integer in 1..256 MiB')
    }
    if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'maxConnections must be a positive integer')
    if (!(dialTimeoutMs > 0)) throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'dialTimeoutMs must be positive')
    const topics = new Set(init.topics ?? [])
    for (const topic of topics) topicBytes(topic)
    let listen: string[]
    let bootstrapList: string[]
    try {
      listen = (init.listen ?? ['/ip4/127.0.0.1/tcp/0']).map(a => multiaddr(a).toString())
      bootstrapList = (init.bootstrap ?? []).map(a => multiaddr(a).toString())
    } catch (error) {
      throw new TransportError('ERR_BAD_TRANSPORT_OPTIONS', 'a listen or bootstrap address is not a multiaddr', { cause: error })
    }
    const privateKey = await libp2pPrivateKey(init.identity)
    const peerDiscovery: NonNullable<Libp2pOptions<Services>['peerDiscovery']> = []
    if (bootstrapList.length > 0) peerDiscovery.push(bootstrap({ list: bootstrapList }))
    if (init.mdns === true) peerDiscovery.push(mdns())
    const node = await createLibp2p<Services>({
      // Started by #start() once the handlers are in place, so no early peer meets a node that
      // does not speak the direct protocol yet.
      start: false,
      privateKey,
      addresses: { listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery,
      connectionManager: {
        maxConnections,
        // A burst of half-open inbound dials must not starve established peers.
        maxIncomingPendingConnections: Math.max(4, Math.ceil(maxConnections / 8)),
        dialTimeout: dialTimeoutMs
      },
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: gossipsub({
          // Delivery is fire-and-forget (src/ports.ts): a publication with no subscriber yet is
          // not an error.
          allowPublishToZeroTopicPeers: true,
          emitSelf: false,
          // Origin signatures on every message: the `from` we report is proven (gossipsub v1.1).
          globalSignaturePolicy: 'StrictSign',
          maxInboundDataLength: maxMessageBytes + GOSSIP_ENVELOPE_BYTES
        })
      }
    })
    const transport = new Libp2pTransport(node, new Uint8Array(init.identity.publicKey), topics, maxMessageBytes, dialTimeoutMs)
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
    const maxDataLength = 1 + MAX_TOPIC_BYTES + this.maxMessageBytes
    await node.handle(DIRECT_PROTOCOL, async (stream, connection) => {
      const key = connection.remotePeer.publicKey
      if (key?.type !== 'Ed25519') { this.stats.refused++; stream.abort(new Error('edge-net peers are Ed25519 keys')); return }
      const from = key.raw
      const lp = lpStream(stream, { maxDataLength })
      try {
        for (;;) {
          const frame = decodeDirectFrame((await lp.read()).subarray())
          if (frame === undefined) { this.stats.refused++; continue }
          // The length prefix allows for the longest topic; a short topic does not buy more data.
          if (frame.data.length > this.maxMessageBytes) throw new TransportError('ERR_MESSAGE_TOO_LARGE', 'inbound frame above the cap')
          this.#deliver(from, frame.topic, frame.data)
        }
      } catch (error) {
        // End of stream (UnexpectedEOFError) is the normal end; an oversized frame is refused.
        const name = (error as Error).name
        if (name === 'UnexpectedEOFError') { await stream.close().catch(() => {}); return }
        if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'TransportError') this.stats.refused++
        if (stream.status === 'open') stream.abort(error as Error)
      }
    }, { maxInboundStreams: 8, maxOutboundStreams: 8 })
    node.services.pubsub.addEventListener('message', (event) => {
      const msg = event.detail
      if (msg.type !== 'signed' || msg.key.type !== 'Ed25519' || !this.#topics.has(msg.topic)) return
      if (msg.data.length > this.maxMessageBytes) { this.stats.refused++; return }
      this.#deliver(msg.key.raw, msg.topic, new Uint8Array(msg.data))
    })
    // Forget a departed peer's outbox (its stream died with the connection); a later send redials.
    node.addEventListener('peer:disconnect', (event) => {
      const key = event.detail.publicKey
      if (key === undefined) return
      const box = this.#outboxes.get(toKey(key.raw))
      if (box !== undefined && box.queued === 0) this.#outboxes.delete(toKey(key.raw))
    })
    await node.start()
    for (const topic of this.#topics) node.services.pubsub.subscribe(topic)
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
    if (!(to instanceof Uint8Array) || to.length !== 32) throw new TransportError('ERR_BAD_PEER_KEY', 'a peer is named by its 32-byte Ed25519 public key')
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
    let outbox = this.#outboxes.get(key)
    if (outbox === undefined) {
      outbox = { chain: Promise.resolve(), queued: 0, lp: undefined, stream: undefined }
      this.#outboxes.set(key, outbox)
    }
    if (outbox.queued >= MAX_QUEUED_PER_PEER) { this.stats.dropped++; return }
    const box = outbox
    const frame = encodeDirectFrame(topic, data)
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
          const stream = await this.#node.dialProtocol(peer, DIRECT_PROTOCOL, { signal: AbortSignal.timeout(this.#dialTimeoutMs) })
          box.stream = stream
          box.lp = lpStream(stream, { maxDataLength: 1 + MAX_TOPIC_BYTES + this.maxMessageBytes })
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
      for (const box of this.#outboxes.values()) box.stream?.abort(new Error('transport closed'))
      this.#outboxes.clear()
      await this.#node.stop()
    })()
    await this.#closing
  }
}
