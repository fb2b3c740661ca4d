/**
 * Anti-entropy between two ledger replicas by Merkle ranges, sans-I/O (the y-protocols shape:
 * a message in, a message out; the caller owns the transport). Each side wraps its `MerkleSet` in
 * a `SyncSession`; one calls `start()`, then each passes what it receives to `receive()` and sends
 * back what that returns, until `receive()` returns null. Both sides then know exactly which ids
 * the other lacks (`missingOnOtherSide`: send those events) and which it lacks (`missingHere`).
 *
 * How: the first message carries the full 32-byte root. Equal roots end the exchange in one round
 * trip. Otherwise the sides descend only into prefixes whose digests differ, answering every
 * differing prefix of a level in one message: a prefix holding at most `idListThreshold` ids on
 * the answering side is answered with its id list (the peer then replies with the exact
 * difference), a prefix the peer holds nothing under is answered with all its ids, and any other
 * with its 16 children's digests. Messages alternate and each descends a level, so d differences
 * among n ids take about (log16(n/T) + 3) / 2 round trips (3 for 100k ids) and
 * O(d · log16 n · 16 · 16) bytes (~62 KB for d = 100, n = 100k: bench/merkle-sync.ts).
 *
 * Range digests on the wire are SHA-256 truncated to 16 bytes. Safe: a wrong "equal" needs two
 * different id sets whose digests agree on 128 bits; even an attacker choosing both sets needs
 * ~2^64 SHA-256 work (birthday bound), and SHA-256 truncated to 128 bits keeps that bound
 * (NIST SP 800-107r1 §5.1). The root is compared on all 32 bytes.
 *
 * Messages are plain objects (Uint8Array, numbers, booleans, arrays); `encodeSyncMessage` packs
 * them as a CBOR array (RFC 8949, cborg strict decoding). Ids added to the set during a session
 * are fine: the answers may be slightly stale (an id reported missing that the peer just got),
 * which costs a redundant send, never a wrong merge; the next session catches anything new.
 */
import { decode, encode } from 'cborg'
import { EdgeNetError } from '../errors.ts'
import { equalBytes, toKey } from '../bytes.ts'
import { EMPTY_DIGEST, ID_BYTES, MAX_PREFIX_NIBBLES, MerkleSet } from './merkle.ts'
import type { NibblePath } from './merkle.ts'

/** Wire version of sync messages. */
export const SYNC_VERSION = 1
/** Largest encoded sync message accepted (1 MiB). */
export const MAX_SYNC_MESSAGE_BYTES = 1024 * 1024
/** Bytes of a range digest on the wire (truncated SHA-256, see above). */
export const RANGE_DIGEST_BYTES = 16
/** Default: answer a differing prefix with its ids when it holds at most this many. */
export const DEFAULT_ID_LIST_THRESHOLD = 16
/** Most ids in one id list, and most range questions (fingerprints, nodes, lists) in one message. */
export const MAX_ID_LIST = 1024
export const MAX_QUESTIONS = 4096

/** Why a sync message or option was refused. */
export const SYNC_ERROR_CODES = ['ERR_BAD_SYNC_MESSAGE', 'ERR_BAD_SYNC_OPTIONS'] as const
export type SyncErrorCode = typeof SYNC_ERROR_CODES[number]

/**
 * A refused sync message (malformed, oversized, inconsistent) or option; the session is unchanged.
 * @example try { decodeSyncMessage(bytes) } catch (err) { (err as SyncError).code === 'ERR_BAD_SYNC_MESSAGE' }
 */
export class SyncError extends EdgeNetError {
  declare readonly code: SyncErrorCode
  constructor (code: SyncErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'SyncError'
  }
}

/** "My ids under `prefix` have this digest (16 or 32 bytes) and number `count`." */
export interface SyncFingerprint { prefix: NibblePath, digest: Uint8Array, count: number }
/** "My ids under `prefix` split into these children": bit i of `bitmap` = child nibble i non-empty. */
export interface SyncNode { prefix: NibblePath, bitmap: number, digests: Uint8Array, counts: number[] }
/** "These are all my ids under `prefix`" (packed, ascending). */
export interface SyncIdList { prefix: NibblePath, ids: Uint8Array }

/** One sync message. `want`/`offer` are packed 32-byte ids. */
export interface SyncMessage {
  version: number
  /** The sender has more queued: reply even if this message asks nothing. */
  more: boolean
  fingerprints: SyncFingerprint[]
  nodes: SyncNode[]
  idLists: SyncIdList[]
  /** Ids the receiver has and the sender lacks. */
  want: Uint8Array
  /** Ids the sender has and the receiver lacks. */
  offer: Uint8Array
}

export interface SyncOptions {
  /** Answer with ids at or below this many (1..MAX_ID_LIST). Fewer round trips when larger, fewer bytes when smaller. */
  idListThreshold?: number
  /** Budget for one outgoing message (4 KiB..MAX_SYNC_MESSAGE_BYTES). */
  maxMessageBytes?: number
}

const bad = (why: string): SyncError => new SyncError('ERR_BAD_SYNC_MESSAGE', `bad sync message: ${why}`)
const EMPTY_RANGE = EMPTY_DIGEST.subarray(0, RANGE_DIGEST_BYTES)

function isCount (x: unknown, min: number): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= min
}

function checkPrefix (p: unknown, maxLength: number): void {
  if (!(p instanceof Uint8Array) || p.length > maxLength) throw bad('prefix')
  for (let i = 0; i < p.length; i++) if ((p[i] as number) > 15) throw bad('prefix nibble')
}

function checkIds (ids: unknown, what: string): asserts ids is Uint8Array {
  if (!(ids instanceof Uint8Array) || ids.length % ID_BYTES !== 0) throw bad(what)
}

function bitCount (x: number): number {
  let n = 0
  for (; x !== 0; x &= x - 1) n++
  return n
}

/** Byte-wise comparison of two packed ids. */
function compareIds (a: Uint8Array, ai: number, b: Uint8Array, bi: number): number {
  for (let k = 0; k < ID_BYTES; k++) {
    const d = (a[ai + k] as number) - (b[bi + k] as number)
    if (d !== 0) return d
  }
  return 0
}

function startsWith (ids: Uint8Array, offset: number, prefix: NibblePath): boolean {
  for (let d = 0; d < prefix.length; d++) {
    const byte = ids[offset + (d >> 1)] as number
    if (((d & 1) === 0 ? byte >> 4 : byte & 15) !== prefix[d]) return false
  }
  return true
}

/**
 * Check a message's shape and limits; returns it typed. Throws ERR_BAD_SYNC_MESSAGE.
 * @example const message = validateSyncMessage(untrusted) // a SyncMessage, or a thrown SyncError
 */
export function validateSyncMessage (value: unknown): SyncMessage {
  if (typeof value !== 'object' || value === null) throw bad('not an object')
  const m = value as Partial<SyncMessage>
  if (m.version !== SYNC_VERSION) throw bad('version')
  if (typeof m.more !== 'boolean') throw bad('more')
  const { fingerprints, nodes, idLists } = m
  if (!Array.isArray(fingerprints) || !Array.isArray(nodes) || !Array.isArray(idLists)) throw bad('item lists')
  if (fingerprints.length + nodes.length + idLists.length > MAX_QUESTIONS) throw bad('too many questions')
  for (const f of fingerprints as unknown[]) {
    const { prefix, digest, count } = (f ?? {}) as Partial<SyncFingerprint>
    checkPrefix(prefix, MAX_PREFIX_NIBBLES)
    if (!(digest instanceof Uint8Array) || (digest.length !== 16 && digest.length !== 32)) throw bad('digest')
    if (!isCount(count, 0)) throw bad('count')
  }
  for (const n of nodes as unknown[]) {
    const { prefix, bitmap, digests, counts } = (n ?? {}) as Partial<SyncNode>
    checkPrefix(prefix, MAX_PREFIX_NIBBLES - 1)
    if (!isCount(bitmap, 0) || bitmap > 0xffff) throw bad('bitmap')
    const present = bitCount(bitmap)
    if (!(digests instanceof Uint8Array) || digests.length !== present * RANGE_DIGEST_BYTES) throw bad('node digests')
    if (!Array.isArray(counts) || counts.length !== present || !counts.every((c) => isCount(c, 1))) throw bad('node counts')
  }
  for (const l of idLists as unknown[]) {
    const { prefix, ids } = (l ?? {}) as Partial<SyncIdList>
    checkPrefix(prefix, MAX_PREFIX_NIBBLES)
    checkIds(ids, 'id list')
    if (ids.length > MAX_ID_LIST * ID_BYTES) throw bad('id list too long')
    for (let o = 0; o < ids.length; o += ID_BYTES) {
      if (!startsWith(ids, o, prefix as NibblePath)) throw bad('id outside its prefix')
      if (o > 0 && compareIds(ids, o - ID_BYTES, ids, o) >= 0) throw bad('id list not strictly ascending')
    }
  }
  checkIds(m.want, 'want')
  checkIds(m.offer, 'offer')
  return m as SyncMessage
}

/**
 * Encode as the canonical CBOR array `[version, more, [[prefix, digest, count]], [[prefix, bitmap,
 * digests, counts]], [[prefix, ids]], want, offer]`. Throws ERR_BAD_SYNC_MESSAGE for a bad message.
 * @example const bytes = encodeSyncMessage(session.start())
 */
export function encodeSyncMessage (message: SyncMessage): Uint8Array {
  const m = validateSyncMessage(message)
  const bytes = encode([
    m.version,
    m.more,
    m.fingerprints.map((f) => [f.prefix, f.digest, f.count]),
    m.nodes.map((n) => [n.prefix, n.bitmap, n.digests, n.counts]),
    m.idLists.map((l) => [l.prefix, l.ids]),
    m.want,
    m.offer
  ])
  if (bytes.length > MAX_SYNC_MESSAGE_BYTES) throw bad('too large')
  return bytes
}

const DECODE_OPTIONS = {
  strict: true, allowIndefinite: false, allowUndefined: false, allowInfinity: false, allowNaN: false,
  allowBigInt: false, rejectDuplicateMapKeys: true, useMaps: false
} as const

function tuple (x: unknown, length: number, what: string): unknown[] {
  if (!Array.isArray(x) || x.length !== length) throw bad(what)
  return x
}

function list (x: unknown, what: string): unknown[] {
  if (!Array.isArray(x)) throw bad(what)
  return x
}

/**
 * Decode and validate bytes from a peer. Throws ERR_BAD_SYNC_MESSAGE for anything else, including
 * more than MAX_SYNC_MESSAGE_BYTES or CBOR that is not exactly what `encodeSyncMessage` writes
 * (so a float standing for an integer, or a long-form length, is refused too).
 * @example session.receive(decodeSyncMessage(bytes))
 */
export function decodeSyncMessage (bytes: Uint8Array): SyncMessage {
  if (!(bytes instanceof Uint8Array)) throw bad('not bytes')
  if (bytes.length > MAX_SYNC_MESSAGE_BYTES) throw bad('too large')
  let value: unknown
  try {
    value = decode(bytes, DECODE_OPTIONS)
    if (!equalBytes(encode(value), bytes)) throw new Error('not in canonical form')
  } catch (err) {
    // cborg reports malformed or non-minimal CBOR; a deep nest may overflow the stack.
    throw new SyncError('ERR_BAD_SYNC_MESSAGE', 'bad sync message: not canonical CBOR', { cause: err })
  }
  const [version, more, fps, nodes, lists, want, offer] = tuple(value, 7, 'not a 7-item array')
  return validateSyncMessage({
    version,
    more,
    fingerprints: list(fps, 'fingerprints').map((f) => {
      const [prefix, digest, count] = tuple(f, 3, 'fingerprint')
      return { prefix, digest, count }
    }),
    nodes: list(nodes, 'nodes').map((n) => {
      const [prefix, bitmap, digests, counts] = tuple(n, 4, 'node')
      return { prefix, bitmap, digests, counts }
    }),
    idLists: list(lists, 'id lists').map((l) => {
      const [prefix, ids] = tuple(l, 2, 'id list')
      return { prefix, ids }
    }),
    want,
    offer
  })
}

/** An empty message to fill. */
function emptyMessage (): SyncMessage {
  return { version: SYNC_VERSION, more: false, fingerprints: [], nodes: [], idLists: [], want: new Uint8Array(0), offer: new Uint8Array(0) }
}

function childPrefix (prefix: NibblePath, nibble: number): NibblePath {
  const out = new Uint8Array(prefix.length + 1)
  out.set(prefix)
  out[prefix.length] = nibble
  return out
}

/**
 * One side of one reconciliation. One side calls `start()`; messages must arrive in order and
 * once (one request/response stream); after a lost message, start a new session.
 *
 * @example
 * const a = new SyncSession(setA), b = new SyncSession(setB)
 * let msg = a.start(), to = b
 * while (msg) { msg = to.receive(msg); to = to === a ? b : a }
 * a.missingOnOtherSide // ids b lacks
 */
export class SyncSession {
  readonly #set: MerkleSet
  readonly #threshold: number
  readonly #maxBytes: number
  #fingerprints: SyncFingerprint[] = []
  #nodes: SyncNode[] = []
  #idLists: SyncIdList[] = []
  #want: Uint8Array[] = []
  #offer: Uint8Array[] = []
  readonly #missingThere = new Map<string, Uint8Array>()
  readonly #missingHere = new Map<string, Uint8Array>()
  #done = false

  constructor (set: MerkleSet, options: SyncOptions = {}) {
    const threshold = options.idListThreshold ?? DEFAULT_ID_LIST_THRESHOLD
    const maxBytes = options.maxMessageBytes ?? 256 * 1024
    if (!(set instanceof MerkleSet)) throw new SyncError('ERR_BAD_SYNC_OPTIONS', 'a SyncSession needs a MerkleSet')
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > MAX_ID_LIST) {
      throw new SyncError('ERR_BAD_SYNC_OPTIONS', `idListThreshold must be an integer in 1..${MAX_ID_LIST}`)
    }
    if (!Number.isInteger(maxBytes) || maxBytes < 4096 + MAX_ID_LIST * ID_BYTES || maxBytes > MAX_SYNC_MESSAGE_BYTES) {
      throw new SyncError('ERR_BAD_SYNC_OPTIONS', `maxMessageBytes must be an integer in ${4096 + MAX_ID_LIST * ID_BYTES}..${MAX_SYNC_MESSAGE_BYTES}`)
    }
    this.#set = set
    this.#threshold = threshold
    this.#maxBytes = maxBytes
  }

  /** True once the exchange has ended as far as this side knows. */
  get done (): boolean { return this.#done }
  /** Ids this side has and the peer lacks: send the peer these events. */
  get missingOnOtherSide (): Uint8Array[] { return [...this.#missingThere.values()] }
  /** Ids the peer has and this side lacks: request these events. */
  get missingHere (): Uint8Array[] { return [...this.#missingHere.values()] }

  /**
   * The opening message: the full root and count, plus the root's children (or, for a small set,
   * its ids), so that differing replicas save a round trip; equal roots still end in one.
   * @example transport.send(encodeSyncMessage(session.start()))
   */
  start (): SyncMessage {
    this.#done = false
    const root = new Uint8Array(0)
    this.#fingerprints.push({ prefix: root, digest: this.#set.root(), count: this.#set.size })
    if (this.#set.size > 0) this.#answer(root, 1)
    return this.#flush()
  }

  /**
   * Take the peer's message; return the reply, or null when the exchange is over. A message that
   * fails `validateSyncMessage` throws ERR_BAD_SYNC_MESSAGE and changes nothing.
   * @example const reply = session.receive(decodeSyncMessage(bytes)); if (reply) send(encodeSyncMessage(reply))
   */
  receive (message: SyncMessage): SyncMessage | null {
    const m = validateSyncMessage(message)
    this.#done = false
    // A fingerprint sent with a node or list for the same prefix (the opening message) only
    // decides whether that detail is needed at all.
    const detailed = new Set([...m.nodes, ...m.idLists].map((item) => toKey(item.prefix)))
    const settled = new Set<string>()
    for (const f of m.fingerprints) {
      const mine = this.#set.digestOf(f.prefix).subarray(0, f.digest.length)
      if (equalBytes(mine, f.digest)) settled.add(toKey(f.prefix))
      else if (!detailed.has(toKey(f.prefix))) this.#answer(f.prefix, f.count)
    }
    for (const n of m.nodes) if (!settled.has(toKey(n.prefix))) this.#onNode(n)
    for (const l of m.idLists) if (!settled.has(toKey(l.prefix))) this.#onIdList(l)
    for (let o = 0; o < m.want.length; o += ID_BYTES) {
      const id = m.want.slice(o, o + ID_BYTES)
      if (this.#set.has(id)) this.#missingThere.set(toKey(id), id)
    }
    for (let o = 0; o < m.offer.length; o += ID_BYTES) {
      const id = m.offer.slice(o, o + ID_BYTES)
      if (!this.#set.has(id)) this.#missingHere.set(toKey(id), id)
    }
    const asked = m.more || m.fingerprints.length + m.nodes.length + m.idLists.length > 0
    if (!asked && !this.#hasQueued()) {
      this.#done = true
      return null
    }
    return this.#flush()
  }

  /** Our ids under `prefix` differ from the peer's (who holds `theirCount`): say what we hold. */
  #answer (prefix: NibblePath, theirCount: number): void {
    if (theirCount === 0) {
      // The peer holds nothing here: everything of ours is missing there, no question needed.
      const ids = this.#set.packedIdsUnder(prefix)
      for (let o = 0; o < ids.length; o += ID_BYTES) {
        const id = ids.slice(o, o + ID_BYTES)
        this.#missingThere.set(toKey(id), id)
      }
      if (ids.length > 0) this.#offer.push(ids)
    } else if (prefix.length === MAX_PREFIX_NIBBLES || this.#set.countOf(prefix) <= this.#threshold) {
      this.#idLists.push({ prefix, ids: this.#set.packedIdsUnder(prefix) })
    } else {
      const { digests, counts } = this.#set.childrenOf(prefix)
      let bitmap = 0
      const present: number[] = []
      const packed: Uint8Array[] = []
      for (let c = 0; c < 16; c++) {
        if ((counts[c] as number) === 0) continue
        bitmap |= 1 << c
        present.push(counts[c] as number)
        packed.push((digests[c] as Uint8Array).subarray(0, RANGE_DIGEST_BYTES))
      }
      const all = new Uint8Array(packed.length * RANGE_DIGEST_BYTES)
      packed.forEach((d, i) => all.set(d, i * RANGE_DIGEST_BYTES))
      this.#nodes.push({ prefix, bitmap, digests: all, counts: present })
    }
  }

  #onNode (node: SyncNode): void {
    if (this.#set.countOf(node.prefix) <= this.#threshold) {
      // Few ids here: one list settles the whole prefix in fewer bytes than a list per child.
      this.#idLists.push({ prefix: node.prefix, ids: this.#set.packedIdsUnder(node.prefix) })
      return
    }
    const mine = this.#set.childrenOf(node.prefix)
    let k = 0
    for (let c = 0; c < 16; c++) {
      const present = (node.bitmap & (1 << c)) !== 0
      const theirs = present ? node.digests.subarray(k * RANGE_DIGEST_BYTES, (k + 1) * RANGE_DIGEST_BYTES) : EMPTY_RANGE
      const theirCount = present ? node.counts[k] as number : 0
      if (present) k++
      const ours = (mine.digests[c] as Uint8Array).subarray(0, RANGE_DIGEST_BYTES)
      if (!equalBytes(ours, theirs)) this.#answer(childPrefix(node.prefix, c), theirCount)
    }
  }

  /** The peer listed all its ids under a prefix: the exact difference, both ways, by a sorted merge. */
  #onIdList (list: SyncIdList): void {
    const mine = this.#set.packedIdsUnder(list.prefix)
    const theirs = list.ids
    const want: Uint8Array[] = []
    const offer: Uint8Array[] = []
    let i = 0
    let j = 0
    while (i < mine.length || j < theirs.length) {
      const d = i >= mine.length ? 1 : j >= theirs.length ? -1 : compareIds(mine, i, theirs, j)
      if (d < 0) {
        const id = mine.slice(i, i + ID_BYTES)
        this.#missingThere.set(toKey(id), id)
        offer.push(id)
        i += ID_BYTES
      } else if (d > 0) {
        const id = theirs.slice(j, j + ID_BYTES)
        this.#missingHere.set(toKey(id), id)
        want.push(id)
        j += ID_BYTES
      } else {
        i += ID_BYTES
        j += ID_BYTES
      }
    }
    this.#want.push(...want)
    this.#offer.push(...offer)
  }

  #hasQueued (): boolean {
    return this.#fingerprints.length + this.#nodes.length + this.#idLists.length + this.#want.length + this.#offer.length > 0
  }

  /** Fill one message from the queues within the byte budget (sizes estimated from above). */
  #flush (): SyncMessage {
    const out = emptyMessage()
    let room = this.#maxBytes - 64
    let questions = 0
    const fits = (size: number): boolean => {
      if (size > room || questions >= MAX_QUESTIONS) return false
      room -= size
      questions++
      return true
    }
    while (this.#fingerprints.length > 0 && fits(this.#fingerprints[0]!.prefix.length + 50)) out.fingerprints.push(this.#fingerprints.shift()!)
    let n = 0
    while (n < this.#nodes.length && fits(this.#nodes[n]!.prefix.length + this.#nodes[n]!.digests.length + 6 * this.#nodes[n]!.counts.length + 24)) n++
    out.nodes = this.#nodes.splice(0, n)
    n = 0
    while (n < this.#idLists.length && fits(this.#idLists[n]!.prefix.length + this.#idLists[n]!.ids.length + 16)) n++
    out.idLists = this.#idLists.splice(0, n)
    out.want = this.#takeIds(this.#want, room)
    room -= out.want.length
    out.offer = this.#takeIds(this.#offer, room)
    out.more = this.#hasQueued()
    if (!out.more && out.fingerprints.length + out.nodes.length + out.idLists.length === 0) this.#done = true
    return out
  }

  /** Take up to `room` bytes of packed ids from a queue of packed chunks. */
  #takeIds (queue: Uint8Array[], room: number): Uint8Array {
    const limit = Math.max(0, Math.floor(room / ID_BYTES)) * ID_BYTES
    const parts: Uint8Array[] = []
    let size = 0
    while (queue.length > 0 && size < limit) {
      const chunk = queue[0] as Uint8Array
      const take = Math.min(chunk.length, limit - size)
      parts.push(chunk.subarray(0, take))
      size += take
      if (take === chunk.length) queue.shift()
      else queue[0] = chunk.subarray(take)
    }
    const out = new Uint8Array(size)
    let offset = 0
    for (const p of parts) { out.set(p, offset); offset += p.length }
    return out
  }
}

/** Result of reconciling two local sets. */
export interface LocalSyncResult { a: SyncSession, b: SyncSession, messages: number, roundTrips: number, bytes: number }

/**
 * Run the protocol between two in-process sets through encode/decode (tests, simulations, bench).
 * @example const { a, roundTrips } = reconcileLocal(setA, setB); a.missingHere // ids to fetch from b
 */
export function reconcileLocal (setA: MerkleSet, setB: MerkleSet, options: SyncOptions = {}): LocalSyncResult {
  const a = new SyncSession(setA, options)
  const b = new SyncSession(setB, options)
  let message: SyncMessage | null = a.start()
  let to = b
  let messages = 0
  let bytes = 0
  while (message !== null) {
    const wire = encodeSyncMessage(message)
    bytes += wire.length
    messages++
    message = to.receive(decodeSyncMessage(wire))
    to = to === a ? b : a
  }
  return { a, b, messages, roundTrips: Math.ceil(messages / 2), bytes }
}
