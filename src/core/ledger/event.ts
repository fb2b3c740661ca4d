/**
 * Ledger events: the one data model of edge-net (../../../docs/ledger.md).
 *
 * Wire form: the canonical CBOR array `[v, type, author, seq, prev, deps, time, body, sig]`.
 * Signed bytes: `signedBytes(networkId, 'event', cbor([v, type, author, seq, prev, deps, time, body]))`
 * (domain-separated, so an event never verifies in another network or as another message).
 * Id: SHA-256 of the signed bytes. The id leaves the signature out, so the same content signed
 * twice is one event, and it includes the network id, so ids never collide across networks.
 */
import { decodeCanonical, encodeCanonical, CodecError } from '../codec/index.ts'
import type { CborValue } from '../codec/index.ts'
import { signedBytes, verifyEd25519 } from '../identity/index.ts'
import { toKey } from '../bytes.ts'
import { LedgerError } from './errors.ts'
import { FieldReader, isMap, sortedDistinctBytes } from './schema.ts'
import { parseBody, settleBodyValue } from './bodies.ts'
import { sha256Once } from './sha256.ts'
import type { BodyOf, EventType } from './bodies.ts'

export const EVENT_VERSION = 1
/** Largest encoded event (64 KiB): big enough for a certificate with a large quorum. */
export const MAX_EVENT_BYTES = 64 * 1024
/** Most dependencies one event may name. */
export const MAX_DEPS = 64

/** A decoded, structurally valid event. Its signature is checked by `verifyEvent`. */
export interface LedgerEvent<T extends EventType = EventType> {
  readonly v: number
  readonly type: T
  /** The author's raw 32-byte Ed25519 public key. */
  readonly author: Uint8Array
  /** Position in the author's chain, from 1. */
  readonly seq: number
  /** Id of the author's event at seq - 1, or null at seq 1. */
  readonly prev: Uint8Array | null
  /** Ids of other events this one builds on (credits it acknowledges, offender heads, ...), ascending. */
  readonly deps: readonly Uint8Array[]
  /** Author's clock, milliseconds since the epoch; never below prev's or a dep's. */
  readonly time: number
  readonly body: BodyOf<T>
  readonly sig: Uint8Array
  /** SHA-256 of the signed bytes. */
  readonly id: Uint8Array
  /** `id` as a one-byte-per-char string, for use as a map key. */
  readonly key: string
  /** `author` as a one-byte-per-char string, for use as a map key. */
  readonly authorKey: string
  /** `prev` as a key, or null at seq 1. */
  readonly prevKey: string | null
  /** `deps` as keys, in the same order. */
  readonly depKeys: readonly string[]
  /** The canonical encoding. */
  readonly bytes: Uint8Array
  /** The bytes the signature covers. */
  readonly signed: Uint8Array
}

/** The unsigned fields an author fills in. */
export interface UnsignedEvent<T extends EventType = EventType> {
  type: T
  author: Uint8Array
  seq: number
  prev: Uint8Array | null
  deps: readonly Uint8Array[]
  time: number
  body: BodyOf<T>
}

function unsignedArray<T extends EventType> (e: UnsignedEvent<T>): CborValue[] {
  // Settle items travel as arrays (bodies.ts); every other body is encoded as it is.
  const body = e.type === 'settle' ? settleBodyValue(e.body as BodyOf<'settle'>) : e.body
  return [EVENT_VERSION, e.type, e.author, e.seq, e.prev, [...e.deps], e.time, body as unknown as CborValue]
}

/**
 * The bytes an author signs for an event.
 * @example const message = eventSigningBytes('edge-net-test', unsigned)
 */
export function eventSigningBytes<T extends EventType> (networkId: string, e: UnsignedEvent<T>): Uint8Array {
  return signedBytes(networkId, 'event', encodeCanonical(unsignedArray(e)))
}

/**
 * Sign and encode an event.
 * @example const e = await signEvent('net', identity, { type: 'heartbeat', author: identity.publicKey, seq: 1, prev: null, deps: [], time: 0, body: {} })
 */
export async function signEvent<T extends EventType> (networkId: string, signer: { sign (message: Uint8Array): Promise<Uint8Array> }, e: UnsignedEvent<T>): Promise<LedgerEvent<T>> {
  const signed = eventSigningBytes(networkId, e)
  const sig = await signer.sign(signed)
  return decodeEvent(networkId, encodeCanonical([...unsignedArray(e), sig])) as unknown as LedgerEvent<T>
}

/**
 * Decode and structurally validate an event (shape, field types, body schema). Does not check the
 * signature or anything that depends on other events.
 * @example const e = decodeEvent('net', bytes); console.log(e.type, e.seq)
 */
export function decodeEvent (networkId: string, input: Uint8Array): LedgerEvent {
  return decodeWith(networkId, input, null)
}

/**
 * Decode an event of the ledger's own set, whose id is already known: the same checks as
 * `decodeEvent` but no hashing (the id was computed when the event was admitted). For the
 * ledger's re-reads of stored events only; `id` must be the id of `input`.
 * @example const e = decodeKnownEvent('net', arena.get(i), index.idAt(i))
 */
export function decodeKnownEvent (networkId: string, input: Uint8Array, id: Uint8Array): LedgerEvent {
  return decodeWith(networkId, input, id.slice())
}

const badDeps = (): LedgerError => new LedgerError('ERR_BAD_EVENT', 'deps must be distinct 32-byte ids in ascending order')

function decodeWith (networkId: string, given: Uint8Array, knownId: Uint8Array | null): LedgerEvent {
  // Anything else is turned into bytes exactly as `new Uint8Array(x)` would, as before.
  const input = given instanceof Uint8Array ? given : new Uint8Array(given as unknown as ArrayLike<number>)
  if (input.length > MAX_EVENT_BYTES) throw new LedgerError('ERR_EVENT_TOO_LARGE', `event is ${input.length} bytes, more than ${MAX_EVENT_BYTES}`)
  // Own a copy: the decoded fields are views into these bytes, and an event may wait in the pending
  // pool long after the caller has reused its buffer. The signed bytes share the copy's buffer
  // (one allocation per event, not two): [encoding | prefix | encoding minus the signature].
  const prefix = domainPrefix(networkId)
  const n = input.length
  const signedLength = n >= 66 ? prefix.length + n - 66 : 0
  const both = new Uint8Array(n + signedLength)
  both.set(input)
  const bytes = both.subarray(0, n)
  let raw: CborValue
  try {
    raw = decodeCanonical(bytes, MAX_EVENT_BYTES)
  } catch (err) {
    if (err instanceof CodecError) throw new LedgerError('ERR_BAD_EVENT', `event encoding: ${err.message}`, { cause: err })
    throw err
  }
  if (!Array.isArray(raw) || raw.length !== 9) throw new LedgerError('ERR_BAD_EVENT', 'an event is an array of 9 items')
  // Indexing, not destructuring: destructuring goes through the array iterator.
  const v = raw[0]
  const type = raw[1]
  const author = raw[2]
  const seq = raw[3]
  const prev = raw[4]
  const deps = raw[5]
  const time = raw[6]
  const body = raw[7]
  const sig = raw[8]
  if (v !== EVENT_VERSION) throw new LedgerError('ERR_BAD_EVENT', `unsupported event version ${String(v)}`)
  if (typeof type !== 'string') throw new LedgerError('ERR_BAD_EVENT', 'type must be a text string')
  if (!(author instanceof Uint8Array) || author.length !== 32) throw new LedgerError('ERR_BAD_EVENT', 'author must be 32 bytes')
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw new LedgerError('ERR_BAD_EVENT', 'seq must be an integer >= 1')
  if (seq === 1 ? prev !== null : !(prev instanceof Uint8Array && prev.length === 32)) {
    throw new LedgerError('ERR_BAD_EVENT', 'prev must be null at seq 1 and a 32-byte id after')
  }
  if (!Array.isArray(deps) || deps.length > MAX_DEPS) throw new LedgerError('ERR_BAD_EVENT', `deps must be a list of at most ${MAX_DEPS} ids`)
  const depIds = sortedDistinctBytes(deps, 32, badDeps)
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) throw new LedgerError('ERR_BAD_EVENT', 'time must be a non-negative integer')
  if (!isMap(body)) throw new LedgerError('ERR_BAD_EVENT', 'body must be a map')
  if (!(sig instanceof Uint8Array) || sig.length !== 64) throw new LedgerError('ERR_BAD_EVENT', 'sig must be 64 bytes')
  const parsed = parseBody(type, new FieldReader(body, type))
  // The canonical array of the first 8 items is the encoding minus the signature (a 64-byte
  // string: 0x58 0x40 + 64 bytes) with the array header 0x89 turned into 0x88: no re-encoding.
  const signed = both.subarray(n)
  signed.set(prefix)
  both.copyWithin(n + prefix.length, 0, n - 66)
  signed[prefix.length] = 0x88
  const id = knownId ?? sha256Once(signed)
  const depKeys: string[] = new Array<string>(depIds.length)
  for (let i = 0; i < depIds.length; i++) depKeys[i] = keyOf(depIds[i] as Uint8Array)
  return {
    v,
    type: type as EventType,
    author,
    seq,
    prev: prev as Uint8Array | null,
    deps: depIds,
    time,
    body: parsed as never,
    sig,
    id,
    key: keyOf(id),
    authorKey: keyOf(author),
    prevKey: prev === null ? null : keyOf(prev as Uint8Array),
    depKeys,
    bytes,
    signed
  }
}

/**
 * `toKey` (../bytes.ts) with a fast path for the 32-byte ids and keys the ledger keys its maps
 * by: `String.fromCharCode` with 32 plain arguments builds the string directly, about twice as
 * fast as spreading a typed array through `apply`. Same string for every input.
 * @example keyOf(id) === toKey(id)
 */
export function keyOf (b: Uint8Array): string {
  if (b.length !== 32) return toKey(b)
  return String.fromCharCode(
    b[0] as number, b[1] as number, b[2] as number, b[3] as number, b[4] as number, b[5] as number, b[6] as number, b[7] as number,
    b[8] as number, b[9] as number, b[10] as number, b[11] as number, b[12] as number, b[13] as number, b[14] as number, b[15] as number,
    b[16] as number, b[17] as number, b[18] as number, b[19] as number, b[20] as number, b[21] as number, b[22] as number, b[23] as number,
    b[24] as number, b[25] as number, b[26] as number, b[27] as number, b[28] as number, b[29] as number, b[30] as number, b[31] as number)
}

let cachedPrefix: { networkId: string, bytes: Uint8Array } | null = null

/** The domain-separation prefix of events in a network (signedBytes with an empty payload). */
function domainPrefix (networkId: string): Uint8Array {
  if (cachedPrefix?.networkId !== networkId) cachedPrefix = { networkId, bytes: signedBytes(networkId, 'event', new Uint8Array(0)) }
  return cachedPrefix.bytes
}

/**
 * Check the event's own signature (strict Ed25519: canonical, no small-order keys).
 * @example if (!(await verifyEvent(e))) throw new Error('forged')
 */
export function verifyEvent (e: LedgerEvent): Promise<boolean> {
  if (isVerified(e)) return Promise.resolve(true)
  return verifyEd25519(e.author, e.signed, e.sig).then(ok => {
    if (ok) rememberVerified(e)
    return ok
  })
}

/**
 * Signatures already verified in this process, keyed by event id (which hashes the signed bytes,
 * author included) and signature. The same event reaches a node many times (gossip, sync,
 * re-sends); verifying it once is enough, since an (id, signature) pair that verified once always
 * will. Bounded; oldest entries go first.
 *
 * Layout: the signatures sit in one ring of 64-byte slots (allocated on first use, 4 MiB), the map
 * holds id key -> slot. A Uint8Array copy per entry, as before, cost ~150 bytes of small heap
 * objects per verified event, all promoted to the old generation and collected later: measurable
 * garbage-collector work on every ingested event (bench/ledger.ts).
 */
const VERIFIED_MEMO = 1 << 16
const verified = new Map<string, number>()
const memoKeys: Array<string | undefined> = []
let memoSigs: Uint8Array | null = null
let memoNext = 0

/**
 * Whether this event's (id, signature) pair was verified before in this process (ledger.ts uses it
 * to skip the verification; `verifyEvent` is the public way).
 * @example if (!isVerified(e)) await verifyEd25519(e.author, e.signed, e.sig)
 */
export function isVerified (e: LedgerEvent): boolean {
  const slot = verified.get(e.key)
  if (slot === undefined || memoSigs === null) return false
  const sig = e.sig
  const base = slot * 64
  for (let i = 0; i < 64; i++) if (memoSigs[base + i] !== sig[i]) return false
  return true
}

/**
 * Record that this event's signature verified (only after it did).
 * @example if (await verifyEd25519(e.author, e.signed, e.sig)) rememberVerified(e)
 */
export function rememberVerified (e: LedgerEvent): void {
  memoSigs ??= new Uint8Array(VERIFIED_MEMO * 64)
  let slot = verified.get(e.key)
  if (slot === undefined) {
    slot = memoNext
    memoNext = (memoNext + 1) % VERIFIED_MEMO
    const evicted = memoKeys[slot]
    if (evicted !== undefined) verified.delete(evicted)
    memoKeys[slot] = e.key
    verified.set(e.key, slot)
  }
  memoSigs.set(e.sig, slot * 64)
}

/** Forget every memoised verification (benchmarks use it to measure cold ingest). */
export function clearVerifiedMemo (): void {
  verified.clear()
  memoKeys.length = 0
  memoNext = 0
}
