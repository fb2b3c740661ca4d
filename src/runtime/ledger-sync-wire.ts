/**
 * The wire format of ledger replication (docs/network.md): what travels on LEDGER_TOPIC (gossip of
 * new events) and LEDGER_SYNC_TOPIC (direct messages: Merkle-range sync steps, requests for
 * events by id, and events sent in reply). Every message is one canonical CBOR array (RFC 8949
 * §4.2.1, decoded by the core's strict decoder), so a message has exactly one encoding and
 * anything else is refused before it reaches the ledger.
 *
 * ```
 * gossip   [1, [event, ...]]                                   on LEDGER_TOPIC
 * sync     [1, 0, session, initiator, step, syncMessage]       on LEDGER_SYNC_TOPIC
 * abort    [1, 1, session, initiator, reason]
 * want     [1, 2, ids]            ids: packed 32-byte ids
 * events   [1, 3, [event, ...]]
 * ```
 *
 * `session` is a 32-bit number the initiator picks; `initiator` says whether the sender opened the
 * session (so two peers that open sessions to each other with the same number never mix them up);
 * `step` counts the session's messages from 0 (the initiator sends even steps, the responder odd
 * ones), which lets the receiver drop a duplicate and keeps SyncSession's in-order contract.
 */
import { decodeCanonical, encodeCanonical } from '../core/codec/index.ts'
import { MAX_EVENT_BYTES } from '../core/ledger/index.ts'
import { MAX_SYNC_MESSAGE_BYTES } from '../core/ledger/sync.ts'
import { LedgerSyncError } from './ledger-sync-errors.ts'

/** Gossip topic of new ledger events. @example transport.publish(LEDGER_TOPIC, bytes) */
export const LEDGER_TOPIC = 'edge-net/ledger/1'
/** Direct-message topic of sync sessions and event requests. @example LEDGER_SYNC_TOPIC === 'edge-net/ledger-sync/1' */
export const LEDGER_SYNC_TOPIC = 'edge-net/ledger-sync/1'
/** Wire version (first item of every message). */
export const LEDGER_WIRE_VERSION = 1
/** Largest message accepted from a peer: a full-size sync message plus the envelope (1 MiB + 1 KiB). */
export const MAX_INBOUND_BYTES = MAX_SYNC_MESSAGE_BYTES + 1024
/** Most events in one gossip or events message. */
export const MAX_EVENTS_PER_MESSAGE = 4096
/** Most ids in one want message (128 KiB of ids). */
export const MAX_WANT_IDS = 4096
/** Longest abort reason, in characters. */
export const MAX_REASON_LENGTH = 64
/** Bytes of the envelope around a sync message or an events list, counted from above. */
export const ENVELOPE_BYTES = 32
/** CBOR head of one byte string of up to 64 KiB, counted from above. */
const ITEM_HEAD_BYTES = 5

/** One decoded direct message. */
export type DirectFrame =
  | { kind: 'sync', session: number, initiator: boolean, step: number, message: Uint8Array }
  | { kind: 'abort', session: number, initiator: boolean, reason: string }
  | { kind: 'want', ids: Uint8Array }
  | { kind: 'events', events: Uint8Array[] }

const KIND = { sync: 0, abort: 1, want: 2, events: 3 } as const

const malformed = (why: string, cause?: unknown): LedgerSyncError =>
  new LedgerSyncError('ERR_SYNC_MALFORMED', `malformed ledger message: ${why}`, cause === undefined ? undefined : { cause })

function isUint (x: unknown, max: number): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 && x <= max
}

function checkEvents (list: unknown): Uint8Array[] {
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_EVENTS_PER_MESSAGE) throw malformed('event list')
  for (const e of list) if (!(e instanceof Uint8Array) || e.length === 0 || e.length > MAX_EVENT_BYTES) throw malformed('event item')
  // Copies: the decoder's byte strings are views into the whole message.
  return (list as Uint8Array[]).map(e => e.slice())
}

function decodeArray (bytes: Uint8Array): unknown[] {
  if (!(bytes instanceof Uint8Array)) throw malformed('not bytes')
  if (bytes.length > MAX_INBOUND_BYTES) throw new LedgerSyncError('ERR_SYNC_OVERSIZED', `ledger message of ${bytes.length} bytes exceeds ${MAX_INBOUND_BYTES}`)
  let value: unknown
  try {
    value = decodeCanonical(bytes, MAX_INBOUND_BYTES)
  } catch (err) {
    throw malformed('not canonical CBOR', err)
  }
  if (!Array.isArray(value) || value[0] !== LEDGER_WIRE_VERSION) throw malformed('not a version-1 array')
  return value
}

/**
 * Encode events for gossip. The caller keeps the total under its cap (see `chunkEvents`).
 * @example transport.publish(LEDGER_TOPIC, encodeGossip([event.bytes]))
 */
export function encodeGossip (events: readonly Uint8Array[]): Uint8Array {
  return encodeCanonical([LEDGER_WIRE_VERSION, [...events]])
}

/**
 * Decode a gossip message into event encodings (not yet verified: the ledger does that). Throws
 * LedgerSyncError ERR_SYNC_OVERSIZED or ERR_SYNC_MALFORMED.
 * @example await ledger.ingest(decodeGossip(data))
 */
export function decodeGossip (bytes: Uint8Array): Uint8Array[] {
  const value = decodeArray(bytes)
  if (value.length !== 2) throw malformed('gossip is not a 2-item array')
  return checkEvents(value[1])
}

/**
 * Encode a direct message.
 * @example transport.send(peer, LEDGER_SYNC_TOPIC, encodeDirect({ kind: 'want', ids }))
 */
export function encodeDirect (frame: DirectFrame): Uint8Array {
  switch (frame.kind) {
    case 'sync': return encodeCanonical([LEDGER_WIRE_VERSION, KIND.sync, frame.session, frame.initiator, frame.step, frame.message])
    case 'abort': return encodeCanonical([LEDGER_WIRE_VERSION, KIND.abort, frame.session, frame.initiator, frame.reason.slice(0, MAX_REASON_LENGTH)])
    case 'want': return encodeCanonical([LEDGER_WIRE_VERSION, KIND.want, frame.ids])
    case 'events': return encodeCanonical([LEDGER_WIRE_VERSION, KIND.events, [...frame.events]])
  }
}

/**
 * Decode and check a direct message's envelope (a sync step's inner message is checked by
 * `decodeSyncMessage` when its session takes it). Throws ERR_SYNC_OVERSIZED or ERR_SYNC_MALFORMED.
 * @example const frame = decodeDirect(data); if (frame.kind === 'want') serve(frame.ids)
 */
export function decodeDirect (bytes: Uint8Array): DirectFrame {
  const value = decodeArray(bytes)
  const kind = value[1]
  if (kind === KIND.sync) {
    const [, , session, initiator, step, message] = value
    if (value.length !== 6 || !isUint(session, 0xffffffff) || typeof initiator !== 'boolean' || !isUint(step, 0xffffffff) || !(message instanceof Uint8Array)) throw malformed('sync frame')
    return { kind: 'sync', session, initiator, step, message: message.slice() }
  }
  if (kind === KIND.abort) {
    const [, , session, initiator, reason] = value
    if (value.length !== 5 || !isUint(session, 0xffffffff) || typeof initiator !== 'boolean' || typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH) throw malformed('abort frame')
    return { kind: 'abort', session, initiator, reason }
  }
  if (kind === KIND.want) {
    const ids = value[2]
    if (value.length !== 3 || !(ids instanceof Uint8Array) || ids.length === 0 || ids.length % 32 !== 0 || ids.length > MAX_WANT_IDS * 32) throw malformed('want frame')
    return { kind: 'want', ids: ids.slice() }
  }
  if (kind === KIND.events) {
    if (value.length !== 3) throw malformed('events frame')
    return { kind: 'events', events: checkEvents(value[2]) }
  }
  throw malformed('unknown kind')
}

/**
 * Split event encodings into groups whose gossip or events message stays within `maxBytes`
 * (sizes counted from above; an event is at most MAX_EVENT_BYTES, so any cap of at least
 * MIN_MESSAGE_BYTES holds one). Order is kept: dependencies first stay first.
 * @example for (const group of chunkEvents(events, 256 * 1024)) transport.publish(LEDGER_TOPIC, encodeGossip(group))
 */
export function chunkEvents (events: readonly Uint8Array[], maxBytes: number): Uint8Array[][] {
  const out: Uint8Array[][] = []
  let group: Uint8Array[] = []
  let size = ENVELOPE_BYTES
  for (const e of events) {
    const cost = e.length + ITEM_HEAD_BYTES
    if (group.length > 0 && (size + cost > maxBytes || group.length >= MAX_EVENTS_PER_MESSAGE)) {
      out.push(group)
      group = []
      size = ENVELOPE_BYTES
    }
    group.push(e)
    size += cost
  }
  if (group.length > 0) out.push(group)
  return out
}

/**
 * Split ids into packed groups of at most MAX_WANT_IDS that fit `maxBytes`.
 * @example for (const ids of chunkIds(missing, cap)) transport.send(peer, LEDGER_SYNC_TOPIC, encodeDirect({ kind: 'want', ids }))
 */
export function chunkIds (ids: readonly Uint8Array[], maxBytes: number): Uint8Array[] {
  const per = Math.max(1, Math.min(MAX_WANT_IDS, Math.floor((maxBytes - ENVELOPE_BYTES) / 32)))
  const out: Uint8Array[] = []
  for (let i = 0; i < ids.length; i += per) {
    const part = ids.slice(i, i + per)
    const packed = new Uint8Array(part.length * 32)
    part.forEach((id, k) => packed.set(id, k * 32))
    out.push(packed)
  }
  return out
}

/** The smallest message cap a replicator accepts: one largest event plus its envelope. */
export const MIN_MESSAGE_BYTES = MAX_EVENT_BYTES + ENVELOPE_BYTES + ITEM_HEAD_BYTES
