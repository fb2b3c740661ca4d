/**
 * Ledger events: the one data model of edge-net (../../../docs/ledger.md).
 *
 * Wire form: the canonical CBOR array `[v, type, author, seq, prev, deps, time, body, sig]`.
 * Signed bytes: `signedBytes(networkId, 'event', cbor([v, type, author, seq, prev, deps, time, body]))`
 * (domain-separated, so an event never verifies in another network or as another message).
 * Id: SHA-256 of the signed bytes. The id leaves the signature out, so the same content signed
 * twice is one event, and it includes the network id, so ids never collide across networks.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { decodeCanonical, encodeCanonical, CodecError } from '../codec/index.ts'
import type { CborValue } from '../codec/index.ts'
import { signedBytes, verifyEd25519 } from '../identity/index.ts'
import { equalBytes, toKey } from '../bytes.ts'
import { LedgerError } from './errors.ts'
import { FieldReader, isMap, sortedDistinctBytes } from './schema.ts'
import { parseBody } from './bodies.ts'
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
  return [EVENT_VERSION, e.type, e.author, e.seq, e.prev, [...e.deps], e.time, e.body as unknown as CborValue]
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
  // Own a copy: the decoded fields are views into these bytes, and an event may wait in the pending
  // pool long after the caller has reused its buffer.
  const bytes = new Uint8Array(input)
  if (bytes.length > MAX_EVENT_BYTES) throw new LedgerError('ERR_EVENT_TOO_LARGE', `event is ${bytes.length} bytes, more than ${MAX_EVENT_BYTES}`)
  let raw: CborValue
  try {
    raw = decodeCanonical(bytes, MAX_EVENT_BYTES)
  } catch (err) {
    if (err instanceof CodecError) throw new LedgerError('ERR_BAD_EVENT', `event encoding: ${err.message}`, { cause: err })
    throw err
  }
  if (!Array.isArray(raw) || raw.length !== 9) throw new LedgerError('ERR_BAD_EVENT', 'an event is an array of 9 items')
  const [v, type, author, seq, prev, deps, time, body, sig] = raw
  if (v !== EVENT_VERSION) throw new LedgerError('ERR_BAD_EVENT', `unsupported event version ${String(v)}`)
  if (typeof type !== 'string') throw new LedgerError('ERR_BAD_EVENT', 'type must be a text string')
  if (!(author instanceof Uint8Array) || author.length !== 32) throw new LedgerError('ERR_BAD_EVENT', 'author must be 32 bytes')
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw new LedgerError('ERR_BAD_EVENT', 'seq must be an integer >= 1')
  if (seq === 1 ? prev !== null : !(prev instanceof Uint8Array && prev.length === 32)) {
    throw new LedgerError('ERR_BAD_EVENT', 'prev must be null at seq 1 and a 32-byte id after')
  }
  if (!Array.isArray(deps) || deps.length > MAX_DEPS) throw new LedgerError('ERR_BAD_EVENT', `deps must be a list of at most ${MAX_DEPS} ids`)
  const depIds = sortedDistinctBytes(deps, 32, () => new LedgerError('ERR_BAD_EVENT', 'deps must be distinct 32-byte ids in ascending order'))
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) throw new LedgerError('ERR_BAD_EVENT', 'time must be a non-negative integer')
  if (!isMap(body)) throw new LedgerError('ERR_BAD_EVENT', 'body must be a map')
  if (!(sig instanceof Uint8Array) || sig.length !== 64) throw new LedgerError('ERR_BAD_EVENT', 'sig must be 64 bytes')
  const parsed = parseBody(type, new FieldReader(body, type))
  // The canonical array of the first 8 items is the encoding minus the signature (a 64-byte
  // string: 0x58 0x40 + 64 bytes) with the array header 0x89 turned into 0x88: no re-encoding.
  const prefix = domainPrefix(networkId)
  const signed = new Uint8Array(prefix.length + bytes.length - 66)
  signed.set(prefix)
  signed.set(bytes.subarray(0, bytes.length - 66), prefix.length)
  signed[prefix.length] = 0x88
  const id = sha256(signed)
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
    key: toKey(id),
    authorKey: toKey(author),
    prevKey: prev === null ? null : toKey(prev as Uint8Array),
    depKeys: depIds.map(toKey),
    bytes,
    signed
  }
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
  const known = verified.get(e.key)
  if (known !== undefined && equalBytes(known, e.sig)) return Promise.resolve(true)
  return verifyEd25519(e.author, e.signed, e.sig).then(ok => {
    if (ok) {
      if (verified.size >= VERIFIED_MEMO) verified.delete(verified.keys().next().value as string)
      verified.set(e.key, new Uint8Array(e.sig))
    }
    return ok
  })
}

/**
 * Signatures already verified in this process, keyed by event id (which hashes the signed bytes,
 * author included) and signature. The same event reaches a node many times (gossip, sync,
 * re-sends); verifying it once is enough, since an (id, signature) pair that verified once always
 * will. Bounded; oldest entries go first.
 */
const verified = new Map<string, Uint8Array>()
const VERIFIED_MEMO = 1 << 16

/** Forget every memoised verification (benchmarks use it to measure cold ingest). */
export function clearVerifiedMemo (): void { verified.clear() }
