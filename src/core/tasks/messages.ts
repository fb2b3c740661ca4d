/**
 * The task protocol's messages. Each is signed by its sender under a per-kind domain
 * (`task/claim`, `task/commit`, ...), names its task by id, and is checked for shape before anyone
 * acts on it, so a forged, replayed-as-another-kind or malformed message is refused with
 * ERR_TASK_BAD_MESSAGE and changes nothing.
 *
 *   submitter                         worker
 *   the signed envelope       ──▶     (gossiped as it is on the task topic: it carries its own signature)
 *                             ◀──     claim {agree, binding}   (the worker's X25519 key and its binding signature)
 *   assign {seed, workers, sealed} ─▶   (to each chosen worker; `sealed`: the payload, boxed to it, sealed.ts)
 *                             ◀──     commit {commitment}
 *   open {}                   ──▶     (the quorum's commits are in, or the commit phase ended)
 *                             ◀──     reveal {sealed}   ([result, nonce, resultSig], boxed to the submitter)
 *   certify {event}           ──▶     (per batch, to its paid workers: the signed settle event; `task` is its id)
 *                             ◀──     endorse {sig}   (over the batch statement, if every task it pays this worker for has its result)
 *   settled {sigs}            ──▶     (the quorum's endorsements: the worker mints its reward, naming the settle event in deps)
 *   attest {offender, claim, digest} ─▶ (to the agreeing workers, when an outlier is proven wrong)
 *                             ◀──     attested {offender, sig}
 *   cancel {reason}           ──▶     (the task ended without this worker)
 */
import { decodeCanonical, encodeCanonical } from '../codec/index.ts'
import type { CborValue } from '../codec/index.ts'
import { equalBytes } from '../bytes.ts'
import { signedBytes, verifyEd25519 } from '../identity/index.ts'
import type { MessageSigner } from '../identity/index.ts'
import { TaskError } from './errors.ts'

/** Version of the message encoding. */
export const MESSAGE_VERSION = 1
/** Largest encoded message (payloads and results travel, sealed, inside assign and reveal). */
export const MAX_MESSAGE_BYTES = 64 << 20

/** The message kinds, in protocol order. @example TASK_MESSAGE_KINDS.includes('commit') */
export const TASK_MESSAGE_KINDS = ['claim', 'assign', 'commit', 'open', 'reveal', 'certify', 'endorse', 'settled', 'attest', 'attested', 'cancel'] as const
/** One of {@link TASK_MESSAGE_KINDS}. */
export type TaskMessageKind = typeof TASK_MESSAGE_KINDS[number]

/** The body of each kind. */
export interface TaskMessageBodies {
  claim: { agree: Uint8Array, binding: Uint8Array }
  assign: { seed: Uint8Array, workers: Uint8Array[], sealed: Uint8Array }
  commit: { commitment: Uint8Array }
  open: Record<string, never>
  reveal: { sealed: Uint8Array }
  certify: { event: Uint8Array }
  endorse: { sig: Uint8Array }
  settled: { sigs: Uint8Array }
  attest: { offender: Uint8Array, claim: Uint8Array, digest: Uint8Array }
  attested: { offender: Uint8Array, sig: Uint8Array }
  cancel: { reason: string }
}

/** A decoded, verified message. @example if (msg.kind === 'commit') msg.body.commitment */
export type TaskMessage<K extends TaskMessageKind = TaskMessageKind> = K extends TaskMessageKind ? {
  readonly kind: K
  readonly task: Uint8Array
  readonly from: Uint8Array
  readonly body: TaskMessageBodies[K]
  readonly bytes: Uint8Array
} : never

function bad (why: string): TaskError {
  return new TaskError('ERR_TASK_BAD_MESSAGE', why)
}

type Field = 'bytes32' | 'bytes64' | 'bytes' | 'keys' | 'uint' | 'text'
const SCHEMA: { readonly [K in TaskMessageKind]: Readonly<Record<string, Field>> } = {
  claim: { agree: 'bytes32', binding: 'bytes64' },
  assign: { seed: 'bytes32', workers: 'keys', sealed: 'bytes' },
  commit: { commitment: 'bytes32' },
  open: {},
  reveal: { sealed: 'bytes' },
  certify: { event: 'bytes' },
  endorse: { sig: 'bytes64' },
  settled: { sigs: 'bytes' },
  attest: { offender: 'bytes32', claim: 'bytes32', digest: 'bytes32' },
  attested: { offender: 'bytes32', sig: 'bytes64' },
  cancel: { reason: 'text' }
}

function checkField (kind: string, key: string, type: Field, v: CborValue | undefined): CborValue {
  const where = `${kind}.${key}`
  switch (type) {
    case 'bytes32': if (v instanceof Uint8Array && v.length === 32) return v; break
    case 'bytes64': if (v instanceof Uint8Array && v.length === 64) return v; break
    case 'bytes': if (v instanceof Uint8Array) return v; break
    case 'keys':
      if (Array.isArray(v) && v.length >= 1 && v.length <= 16 && v.every(k => k instanceof Uint8Array && k.length === 32)) return v
      break
    case 'uint':
      if (typeof v === 'bigint' && v >= 0n) return v
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
      break
    case 'text': if (typeof v === 'string' && v.length <= 200) return v; break
  }
  throw bad(`${where} is not ${type}`)
}

function checkBody (kind: TaskMessageKind, body: CborValue | undefined): Record<string, CborValue> {
  if (typeof body !== 'object' || body === null || body instanceof Uint8Array || Array.isArray(body)) throw bad(`${kind} body is not a map`)
  const schema = SCHEMA[kind]
  const out: Record<string, CborValue> = {}
  for (const key of Object.keys(body)) if (!Object.hasOwn(schema, key)) throw bad(`${kind}.${key} is not a known field`)
  for (const [key, type] of Object.entries(schema)) out[key] = checkField(kind, key, type, (body as Record<string, CborValue>)[key])
  return out
}

function statement (networkId: string, kind: TaskMessageKind, task: Uint8Array, from: Uint8Array, body: CborValue): Uint8Array {
  return signedBytes(networkId, `task/${kind}`, encodeCanonical([MESSAGE_VERSION, kind, task, from, body]))
}

/**
 * Build and sign a message. Throws ERR_TASK_BAD_MESSAGE for a body that does not fit its kind.
 *
 * @example
 * const bytes = await signTaskMessage(me, 'net', 'commit', env.id, { commitment })
 */
export async function signTaskMessage<K extends TaskMessageKind> (
  signer: MessageSigner & { publicKey: Uint8Array }, networkId: string, kind: K, task: Uint8Array, body: TaskMessageBodies[K]
): Promise<Uint8Array> {
  if (!(TASK_MESSAGE_KINDS as readonly string[]).includes(kind)) throw bad(`unknown message kind '${String(kind)}'`)
  if (!(task instanceof Uint8Array) || task.length !== 32) throw bad('task id is 32 bytes')
  const checked = checkBody(kind, body as unknown as CborValue)
  const sig = await signer.sign(statement(networkId, kind, task, signer.publicKey, checked))
  return encodeCanonical([MESSAGE_VERSION, kind, task, signer.publicKey, checked, sig])
}

/**
 * Frame a message without a signature, for a transport that authenticates its peers (see
 * `Transport.authenticated`): the receiver takes the sender from the transport. Throws
 * ERR_TASK_BAD_MESSAGE for a body that does not fit its kind.
 *
 * @example
 * transport.send(to, topic, frameTaskMessage('open', task, me.publicKey, {}))
 */
export function frameTaskMessage<K extends TaskMessageKind> (kind: K, task: Uint8Array, from: Uint8Array, body: TaskMessageBodies[K]): Uint8Array {
  if (!(TASK_MESSAGE_KINDS as readonly string[]).includes(kind)) throw bad(`unknown message kind '${String(kind)}'`)
  if (!(task instanceof Uint8Array) || task.length !== 32) throw bad('task id is 32 bytes')
  if (!(from instanceof Uint8Array) || from.length !== 32) throw bad('sender key is 32 bytes')
  return encodeCanonical([MESSAGE_VERSION, kind, task, from, checkBody(kind, body as unknown as CborValue)])
}

/**
 * Decode and verify a message from the wire. Throws ERR_TASK_BAD_MESSAGE for anything malformed,
 * oversized or forged. An unsigned frame (five fields) is accepted only when `authenticatedSender`
 * is given (the transport proved who sent it) and names the same sender.
 *
 * @example
 * const msg = await openTaskMessage('net', bytes)
 * if (msg.kind === 'claim') coordinator.onClaim(msg.from, now)
 */
export async function openTaskMessage (networkId: string, bytes: Uint8Array, authenticatedSender?: Uint8Array): Promise<TaskMessage> {
  let value: CborValue
  try {
    value = decodeCanonical(bytes, MAX_MESSAGE_BYTES)
  } catch (err) {
    throw bad(`message does not decode: ${(err as Error).message}`)
  }
  const framed = Array.isArray(value) && value.length === 5
  if (!Array.isArray(value) || (value.length !== 6 && !framed) || value[0] !== MESSAGE_VERSION) throw bad('message is not a version-1 array of 6 fields (5 when unsigned)')
  const [, kind, task, from, body, sig] = value
  if (typeof kind !== 'string' || !(TASK_MESSAGE_KINDS as readonly string[]).includes(kind)) throw bad(`unknown message kind '${String(kind)}'`)
  if (!(task instanceof Uint8Array) || task.length !== 32) throw bad('task id is 32 bytes')
  if (!(from instanceof Uint8Array) || from.length !== 32) throw bad('sender key is 32 bytes')
  const k = kind as TaskMessageKind
  const checked = checkBody(k, body)
  if (framed) {
    if (authenticatedSender === undefined) throw bad('an unsigned message needs a transport that authenticates its sender')
    if (!equalBytes(authenticatedSender, from)) throw bad('the message names another sender than the one the transport authenticated')
    return { kind: k, task, from, body: checked, bytes } as unknown as TaskMessage
  }
  if (!(sig instanceof Uint8Array) || sig.length !== 64) throw bad('signature is 64 bytes')
  if (!(await verifyEd25519(from, statement(networkId, k, task, from, checked), sig))) throw bad(`${k} signature does not verify`)
  return { kind: k, task, from, body: checked, bytes } as unknown as TaskMessage
}
