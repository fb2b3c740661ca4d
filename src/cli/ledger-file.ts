/**
 * The ledger export file (`edge-net ledger export|verify`, format in docs/cli.md): every event of
 * a ledger in the ledger's own order, framed so that `verify` refuses any tampered, truncated or
 * reordered file with a distinct code.
 *
 * Layout (integers big-endian):
 *
 * | offset | bytes | field |
 * | --- | --- | --- |
 * | 0 | 8 | magic `89 45 4E 58 0D 0A 1A 0A` ("\x89ENX\r\n\x1a\n") |
 * | 8 | 4 | format version, 1 |
 * | 12 | 8 | length of the whole file in bytes |
 * | 20 | 4 | header length H |
 * | 24 | H | header: UTF-8 JSON `{ "network": <network.json with every rule>, "count": N }` |
 * | … | 4 + L each | N events: length L (1..65536), then the event's canonical encoding |
 * | end − 64 | 32 | the ledger's state root (Merkle root over event ids) |
 * | end − 32 | 32 | SHA-256 of every byte before it |
 *
 * The magic follows PNG's signature (PNG spec §5.2): the high-bit first byte catches 7-bit
 * transports, CR LF catches line-ending conversion, 0x1A stops a DOS `type`. The length field
 * lets a truncated file be told from a tampered one before the digest is checked; the digest
 * (over the length too) catches any other change; a re-digested file is still replayed, event by
 * event, into a fresh ledger whose root must equal the trailer's.
 */
import { createHash } from 'node:crypto'
import { equalBytes, fromKey, toHex } from '../core/bytes.ts'
import { EdgeNetError } from '../core/errors.ts'
import { Ledger, MAX_EVENT_BYTES, decodeEvent, verifyEvent } from '../core/ledger/index.ts'
import type { LedgerEvent } from '../core/ledger/index.ts'
import { ledgerConfigOf, networkFromJson, networkOfConfig, networkToJson } from './network-file.ts'
import type { NetworkFile } from './network-file.ts'

/**
 * Every code a {@link LedgerFileError} can carry.
 *
 * @example
 * LEDGER_FILE_ERROR_CODES.includes(err.code)
 */
export const LEDGER_FILE_ERROR_CODES = [
  /** The file does not start with the export magic: not an edge-net ledger export. */
  'ERR_EXPORT_BAD_MAGIC',
  /** An export format version this edge-net does not read. */
  'ERR_EXPORT_VERSION',
  /** The file is shorter than its header says: cut off in transfer or on disk. */
  'ERR_EXPORT_TRUNCATED',
  /** Bytes after the end, a header that is not the expected JSON, or event frames that do not add up. */
  'ERR_EXPORT_MALFORMED',
  /** The SHA-256 in the trailer does not match the file: it was changed after it was written. */
  'ERR_EXPORT_DIGEST',
  /** An event that does not decode, repeats, or is refused by the ledger's rules (e.g. a bad signature). */
  'ERR_EXPORT_BAD_EVENT',
  /** An event whose prev or a dependency comes later in the file: the events were reordered. */
  'ERR_EXPORT_ORDER',
  /** An event whose prev or a dependency is not in the file at all: an event was dropped. */
  'ERR_EXPORT_MISSING_DEPENDENCY',
  /** Replaying the events gives another state root than the trailer's (or than the one expected). */
  'ERR_EXPORT_STATE_ROOT'
] as const

/** One of {@link LEDGER_FILE_ERROR_CODES}. @example const code: LedgerFileErrorCode = 'ERR_EXPORT_DIGEST' */
export type LedgerFileErrorCode = typeof LEDGER_FILE_ERROR_CODES[number]

/**
 * Why a ledger export file was refused.
 *
 * @example
 * try { await verifyLedgerExport(bytes) } catch (err) { if (err instanceof LedgerFileError) console.log(err.code) }
 */
export class LedgerFileError extends EdgeNetError {
  declare readonly code: LedgerFileErrorCode

  constructor (code: LedgerFileErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'LedgerFileError'
  }
}

/** The first 8 bytes of every export. @example toHex(EXPORT_MAGIC) === '89454e580d0a1a0a' */
export const EXPORT_MAGIC = Uint8Array.of(0x89, 0x45, 0x4e, 0x58, 0x0d, 0x0a, 0x1a, 0x0a)
/** The format version this module writes and reads. @example EXPORT_VERSION === 1 */
export const EXPORT_VERSION = 1
/** Largest header accepted (1 MiB: a genesis of ~5,000 accounts). @example MAX_EXPORT_HEADER_BYTES === 1048576 */
export const MAX_EXPORT_HEADER_BYTES = 1024 * 1024
/** Bytes before the header: magic, version, file length, header length. */
const PREFIX_BYTES = 8 + 4 + 8 + 4
/** State root and digest. */
const TRAILER_BYTES = 64

/**
 * The export of a ledger, as chunks to write in order (their concatenation is the file).
 *
 * @example
 * for (const chunk of encodeLedgerExport(ledger)) await file.write(chunk)
 */
export function encodeLedgerExport (ledger: Ledger): Uint8Array[] {
  const events = ledger.exportEvents()
  const header = new TextEncoder().encode(JSON.stringify({ network: networkToJson(networkOfConfig(ledger.config)), count: events.length }))
  let total = PREFIX_BYTES + header.length + TRAILER_BYTES
  for (const e of events) total += 4 + e.length
  const prefix = new Uint8Array(PREFIX_BYTES)
  const view = new DataView(prefix.buffer)
  prefix.set(EXPORT_MAGIC, 0)
  view.setUint32(8, EXPORT_VERSION)
  view.setBigUint64(12, BigInt(total))
  view.setUint32(20, header.length)
  const chunks: Uint8Array[] = [prefix, header]
  for (const e of events) {
    const length = new Uint8Array(4)
    new DataView(length.buffer).setUint32(0, e.length)
    chunks.push(length, e)
  }
  const root = ledger.stateRoot()
  chunks.push(root)
  const hash = createHash('sha256')
  for (const c of chunks) hash.update(c)
  chunks.push(new Uint8Array(hash.digest()))
  return chunks
}

/**
 * A parsed export, before its events are checked against the ledger's rules.
 *
 * @example
 * const { network, events, stateRoot } = parseLedgerExport(bytes)
 */
export interface ParsedExport {
  network: NetworkFile
  events: Uint8Array[]
  stateRoot: Uint8Array
}

/**
 * Check an export's framing and digest and split it into its parts. Throws LedgerFileError:
 * ERR_EXPORT_BAD_MAGIC, ERR_EXPORT_VERSION, ERR_EXPORT_TRUNCATED, ERR_EXPORT_MALFORMED or
 * ERR_EXPORT_DIGEST, in that order of checking.
 *
 * @example
 * const parsed = parseLedgerExport(await readFile('ledger.enx'))
 */
export function parseLedgerExport (bytes: Uint8Array): ParsedExport {
  const head = bytes.subarray(0, EXPORT_MAGIC.length)
  if (!equalBytes(head, EXPORT_MAGIC.subarray(0, head.length)) || bytes.length === 0) {
    throw new LedgerFileError('ERR_EXPORT_BAD_MAGIC', 'not an edge-net ledger export (bad magic)')
  }
  if (bytes.length < PREFIX_BYTES) throw new LedgerFileError('ERR_EXPORT_TRUNCATED', `file is ${bytes.length} bytes, shorter than the export prefix`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint32(8)
  if (version !== EXPORT_VERSION) throw new LedgerFileError('ERR_EXPORT_VERSION', `export format version ${version} is not supported (this edge-net reads version ${EXPORT_VERSION})`)
  const declared = view.getBigUint64(12)
  if (BigInt(bytes.length) < declared) throw new LedgerFileError('ERR_EXPORT_TRUNCATED', `file is ${bytes.length} bytes but its header says ${declared}: it was cut off`)
  if (BigInt(bytes.length) > declared) throw new LedgerFileError('ERR_EXPORT_MALFORMED', `file has ${BigInt(bytes.length) - declared} bytes after its end`)
  if (bytes.length < PREFIX_BYTES + TRAILER_BYTES) throw new LedgerFileError('ERR_EXPORT_MALFORMED', 'file is too short to hold a trailer')

  const body = bytes.subarray(0, bytes.length - 32)
  const digest = new Uint8Array(createHash('sha256').update(body).digest())
  if (!equalBytes(digest, bytes.subarray(bytes.length - 32))) {
    throw new LedgerFileError('ERR_EXPORT_DIGEST', 'SHA-256 digest mismatch: the file was changed after it was written')
  }

  const headerLength = view.getUint32(20)
  const eventsEnd = bytes.length - TRAILER_BYTES
  if (headerLength > MAX_EXPORT_HEADER_BYTES || PREFIX_BYTES + headerLength > eventsEnd) {
    throw new LedgerFileError('ERR_EXPORT_MALFORMED', `header length ${headerLength} does not fit the file`)
  }
  const { network, count } = parseHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength))
  const events: Uint8Array[] = []
  let at = PREFIX_BYTES + headerLength
  for (let i = 0; i < count; i++) {
    if (at + 4 > eventsEnd) throw new LedgerFileError('ERR_EXPORT_MALFORMED', `header says ${count} events but the file holds ${i}`)
    const length = view.getUint32(at)
    if (length === 0 || length > MAX_EVENT_BYTES || at + 4 + length > eventsEnd) {
      throw new LedgerFileError('ERR_EXPORT_MALFORMED', `event ${i} has a frame length of ${length} that does not fit`)
    }
    events.push(bytes.subarray(at + 4, at + 4 + length))
    at += 4 + length
  }
  if (at !== eventsEnd) throw new LedgerFileError('ERR_EXPORT_MALFORMED', `${eventsEnd - at} bytes between the last event and the trailer`)
  return { network, events, stateRoot: bytes.slice(eventsEnd, eventsEnd + 32) }
}

function parseHeader (bytes: Uint8Array): { network: NetworkFile, count: number } {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw new LedgerFileError('ERR_EXPORT_MALFORMED', 'header is not UTF-8 JSON', { cause: err })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).sort().join() !== 'count,network') {
    throw new LedgerFileError('ERR_EXPORT_MALFORMED', 'header must be { "network", "count" }')
  }
  const { network, count } = value as { network: unknown, count: unknown }
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) throw new LedgerFileError('ERR_EXPORT_MALFORMED', 'header count must be a non-negative integer')
  try {
    return { network: networkFromJson(network, 'export header'), count }
  } catch (err) {
    throw new LedgerFileError('ERR_EXPORT_MALFORMED', (err as Error).message, { cause: err })
  }
}

/**
 * What {@link verifyLedgerExport} found: the network, the events' count, and the replayed ledger
 * (in memory; its root equals the file's).
 *
 * @example
 * const { ledger, count } = await verifyLedgerExport(bytes); console.log(count, ledger.stateRootHex())
 */
export interface VerifiedExport {
  network: NetworkFile
  count: number
  stateRoot: Uint8Array
  ledger: Ledger
}

/** Events per ingest call while replaying (bounds the work between progress reports). */
const REPLAY_BATCH = 2048

/**
 * Verify an export completely: framing and digest ({@link parseLedgerExport}), then every event
 * decoded (ERR_EXPORT_BAD_EVENT), each one's prev and deps found earlier in the file
 * (ERR_EXPORT_ORDER if later, ERR_EXPORT_MISSING_DEPENDENCY if absent), every event replayed
 * into a fresh in-memory ledger under the header's rules (a refusal is ERR_EXPORT_BAD_EVENT),
 * and the resulting state root compared with the trailer's and with `expectRoot` if given
 * (ERR_EXPORT_STATE_ROOT).
 *
 * @example
 * const { count, stateRoot } = await verifyLedgerExport(bytes, { expectRoot: knownRoot })
 */
export async function verifyLedgerExport (bytes: Uint8Array, options: { expectRoot?: Uint8Array, onProgress?: (done: number, total: number) => void } = {}): Promise<VerifiedExport> {
  const { network, events, stateRoot } = parseLedgerExport(bytes)
  const config = ledgerConfigOf(network)
  const decoded: LedgerEvent[] = []
  const position = new Map<string, number>()
  for (let i = 0; i < events.length; i++) {
    let e: LedgerEvent
    try {
      e = decodeEvent(config.networkId, events[i] as Uint8Array)
    } catch (err) {
      throw new LedgerFileError('ERR_EXPORT_BAD_EVENT', `event ${i} does not decode: ${codeOf(err)}: ${(err as Error).message}`, { cause: err })
    }
    if (position.has(e.key)) throw new LedgerFileError('ERR_EXPORT_BAD_EVENT', `event ${i} repeats event ${position.get(e.key) as number} (${toHex(e.id)})`)
    position.set(e.key, i)
    decoded.push(e)
  }
  for (let i = 0; i < decoded.length; i++) {
    const e = decoded[i] as LedgerEvent
    for (const dep of e.prev === null ? e.depKeys : [e.prevKey as string, ...e.depKeys]) {
      const at = position.get(dep)
      const what = dep === e.prevKey ? 'prev' : 'dependency'
      if (at !== undefined && at < i) continue
      // Before blaming the order, check the event is genuine: an event signed for another
      // network (a header whose networkId was changed) has other ids, so its deps look missing.
      if (!(await verifyEvent(e))) throw new LedgerFileError('ERR_EXPORT_BAD_EVENT', `event ${i} (${toHex(e.id)}) has a signature that does not verify under network "${config.networkId}"`)
      if (at === undefined) throw new LedgerFileError('ERR_EXPORT_MISSING_DEPENDENCY', `event ${i} (${toHex(e.id)}) names a ${what} ${toHex(fromKey(dep))} that is not in the file`)
      throw new LedgerFileError('ERR_EXPORT_ORDER', `event ${i} (${toHex(e.id)}) comes before its ${what}, event ${at}: the events are out of order`)
    }
  }

  const ledger = Ledger.create({ config })
  for (let from = 0; from < events.length; from += REPLAY_BATCH) {
    const batch = events.slice(from, from + REPLAY_BATCH)
    const result = await ledger.ingest(batch)
    const refused = result.rejected[0]
    if (refused !== undefined) {
      const index = refused.index === -1 ? -1 : from + refused.index
      throw new LedgerFileError('ERR_EXPORT_BAD_EVENT', `event ${index} is refused by the ledger: ${refused.error.code}: ${refused.error.message}`, { cause: refused.error })
    }
    options.onProgress?.(Math.min(events.length, from + REPLAY_BATCH), events.length)
  }
  if (ledger.pendingCount > 0) {
    throw new LedgerFileError('ERR_EXPORT_MISSING_DEPENDENCY', `${ledger.pendingCount} events wait for events that are not in the file`)
  }
  const root = ledger.stateRoot()
  if (!equalBytes(root, stateRoot)) {
    throw new LedgerFileError('ERR_EXPORT_STATE_ROOT', `replayed state root ${toHex(root)} differs from the file's ${toHex(stateRoot)}`)
  }
  if (options.expectRoot !== undefined && !equalBytes(root, options.expectRoot)) {
    throw new LedgerFileError('ERR_EXPORT_STATE_ROOT', `state root ${toHex(root)} is not the expected ${toHex(options.expectRoot)}`)
  }
  return { network, count: events.length, stateRoot: root, ledger }
}

function codeOf (err: unknown): string {
  return err instanceof EdgeNetError ? err.code : 'ERR_INTERNAL'
}
