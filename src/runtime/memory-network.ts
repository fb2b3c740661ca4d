/**
 * A simulated network in one process, for tests and simulations (never for production): every
 * message is delivered after a seeded random delay, and may be dropped or duplicated; groups of
 * peers can be partitioned from each other and healed. The same seed gives the same delays, drops
 * and duplicates for the same sequence of sends.
 *
 * Messages are delivered with real timers (setTimeout), so code under test runs as it would on a
 * real transport: asynchronously and interleaved.
 */
import { toKey } from '../core/bytes.ts'
import type { MessageHandler, Transport } from '../ports.ts'

/** How the simulated network misbehaves. @example new MemoryNetwork({ seed: 1, delayMs: [0, 5], drop: 0.01 }) */
export interface MemoryNetworkOptions {
  readonly seed?: number
  /** Uniform delay range per delivery, ms. Default [0, 2]. */
  readonly delayMs?: readonly [number, number]
  /** Probability a delivery is lost. Default 0. */
  readonly drop?: number
  /** Probability a delivery arrives twice. Default 0. */
  readonly duplicate?: number
  /**
   * Whether peers may trust the network's `from` (default true: in one process nobody can forge
   * it). Set false to make protocols sign every direct message, as over an unauthenticated link.
   */
  readonly authenticated?: boolean
}

/** Counters of what the network did. */
export interface MemoryNetworkStats { sent: number, delivered: number, dropped: number, duplicated: number, blocked: number, bytes: number }

/** mulberry32: a small, fast, seeded 32-bit PRNG (uniform in [0, 1)). */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * @example
 * const net = new MemoryNetwork({ seed: 7, drop: 0.05 })
 * const a = net.join(alice.publicKey), b = net.join(bob.publicKey)
 * b.onMessage((from, topic, data) => ...); a.send(bob.publicKey, 'tasks', bytes)
 */
export class MemoryNetwork {
  readonly stats: MemoryNetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, blocked: 0, bytes: 0 }
  readonly #random: () => number
  readonly #delay: readonly [number, number]
  readonly #drop: number
  readonly #duplicate: number
  readonly #authenticated: boolean
  readonly #peers = new Map<string, MemoryTransport>()
  #group = new Map<string, number>()
  /** Every delivery the network carries, for adversaries that eavesdrop (simulation only). */
  tap: ((from: Uint8Array, to: Uint8Array, topic: string, data: Uint8Array) => void) | null = null

  constructor (options: MemoryNetworkOptions = {}) {
    this.#random = seededRandom(options.seed ?? 1)
    this.#delay = options.delayMs ?? [0, 2]
    this.#drop = options.drop ?? 0
    this.#duplicate = options.duplicate ?? 0
    this.#authenticated = options.authenticated ?? true
    if (!(this.#delay[0] >= 0 && this.#delay[1] >= this.#delay[0])) throw new RangeError('delayMs must be [min, max] with 0 <= min <= max')
    if (!(this.#drop >= 0 && this.#drop < 1) || !(this.#duplicate >= 0 && this.#duplicate < 1)) throw new RangeError('drop and duplicate are probabilities in [0, 1)')
  }

  /** Add a peer. @example const t = net.join(identity.publicKey) */
  join (self: Uint8Array): MemoryTransport {
    const key = toKey(self)
    if (this.#peers.has(key)) throw new RangeError('this peer already joined')
    const t = new MemoryTransport(this, self, this.#authenticated)
    this.#peers.set(key, t)
    return t
  }

  /** Split the peers: messages cross between groups no more until `heal()`. Unlisted peers form one more group. */
  partition (groups: readonly (readonly Uint8Array[])[]): void {
    this.#group = new Map()
    groups.forEach((g, i) => { for (const p of g) this.#group.set(toKey(p), i + 1) })
  }

  /** Join every group again. */
  heal (): void { this.#group = new Map() }

  /** @internal */
  leave (self: Uint8Array): void { this.#peers.delete(toKey(self)) }

  /** @internal deliver to one peer with the network's delay, loss and duplication. */
  deliver (from: Uint8Array, to: Uint8Array, topic: string, data: Uint8Array): void {
    this.stats.sent++
    this.stats.bytes += data.length
    const target = this.#peers.get(toKey(to))
    if (target === undefined) { this.stats.dropped++; return }
    if ((this.#group.get(toKey(from)) ?? 0) !== (this.#group.get(toKey(to)) ?? 0)) { this.stats.blocked++; return }
    if (this.#random() < this.#drop) { this.stats.dropped++; return }
    const copies = this.#random() < this.#duplicate ? 2 : 1
    if (copies === 2) this.stats.duplicated++
    this.tap?.(from, to, topic, data)
    for (let i = 0; i < copies; i++) {
      const [lo, hi] = this.#delay
      const delay = lo + this.#random() * (hi - lo)
      setTimeout(() => {
        this.stats.delivered++
        target.receive(from, topic, data)
      }, delay)
    }
  }

  /** @internal every peer but `self`. */
  others (self: Uint8Array): Uint8Array[] {
    const key = toKey(self)
    return [...this.#peers.entries()].filter(([k]) => k !== key).map(([, t]) => t.self)
  }
}

/** One peer's end of a {@link MemoryNetwork}. */
export class MemoryTransport implements Transport {
  readonly self: Uint8Array
  /** In one process the network itself knows who sent what. */
  readonly authenticated: boolean
  readonly #network: MemoryNetwork
  #handler: MessageHandler | null = null
  #closed = false

  constructor (network: MemoryNetwork, self: Uint8Array, authenticated: boolean) {
    this.#network = network
    this.self = self
    this.authenticated = authenticated
  }

  publish (topic: string, data: Uint8Array): void {
    if (this.#closed) return
    for (const peer of this.#network.others(this.self)) this.#network.deliver(this.self, peer, topic, data)
  }

  send (to: Uint8Array, topic: string, data: Uint8Array): void {
    if (this.#closed) return
    this.#network.deliver(this.self, to, topic, data)
  }

  onMessage (handler: MessageHandler): void { this.#handler = handler }

  /** @internal */
  receive (from: Uint8Array, topic: string, data: Uint8Array): void {
    if (!this.#closed) this.#handler?.(from, topic, data)
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#network.leave(this.self)
  }
}
