/**
 * The task envelope: what a submitter signs when it submits work. It names the work (type, payload
 * digest, size), the most the submitter will pay (`cap`, escrowed at submission), how many workers
 * must agree (`redundancy`), when it ends (`deadline`, split into phases as iExec does: 70% to
 * execute and commit, 20% to reveal, 10% to verify and settle), and a commitment to the randomness
 * that will pick its workers (`seedCommit`), fixed before any worker has claimed, so no worker can
 * steer which tasks it gets and the submitter cannot re-roll the choice after seeing the claims,
 * and the submitter's X25519 agreement key (`agreement`), which the payload is sealed from and the
 * results are sealed to (sealed.ts): signed with the rest, so the task id commits to it too.
 *
 * The id is SHA-256 of the signed bytes, so the id commits to every field; the escrow, the
 * settlement certificate and every protocol message name the task by this id.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { decodeCanonical, encodeCanonical } from '../codec/index.ts'
import type { CborValue } from '../codec/index.ts'
import { equalBytes } from '../bytes.ts'
import { signedBytes, verifyEd25519 } from '../identity/index.ts'
import type { MessageSigner } from '../identity/index.ts'
import { priceTask, TASK_PRICES, TASK_PRIORITIES, TASK_TYPES } from '../economy/index.ts'
import type { TaskPriority, TaskType } from '../economy/index.ts'
import { TaskError } from './errors.ts'

/** Version of the envelope encoding. */
export const ENVELOPE_VERSION = 2
/** Signing domain of envelopes. */
export const ENVELOPE_DOMAIN = 'task-envelope'
/** Most workers one task may ask for. */
export const MAX_REDUNDANCY = 9
/** Shortest and longest task lifetimes (ms): phases must leave room for a network round trip. */
export const MIN_TASK_SPAN_MS = 50
export const MAX_TASK_SPAN_MS = 7 * 24 * 3600 * 1000
/** Phase boundaries as fractions of the span (iExec: 70 / 20 / 10). */
export const PHASE_SPLIT = Object.freeze({ commit: 0.7, reveal: 0.9 })
/** Largest encoded envelope. */
export const MAX_ENVELOPE_BYTES = 1024

/** A signed task envelope. @example env.type === 'encryption' */
export interface TaskEnvelope {
  readonly id: Uint8Array
  readonly type: TaskType
  readonly submitter: Uint8Array
  /** SHA-256 of the payload bytes. */
  readonly digest: Uint8Array
  /** Size in the price table's unit for this type (what the kernel's `size()` returned). */
  readonly size: number
  /** Most the submitter pays, micro-credits; escrowed at submission. */
  readonly cap: bigint
  readonly priority: TaskPriority
  /** Workers asked for when replication is full (the quorum size N). */
  readonly redundancy: number
  readonly created: number
  readonly deadline: number
  /** SHA-256 of the 32-byte assignment seed, revealed when workers are assigned. */
  readonly seedCommit: Uint8Array
  /** The submitter's X25519 agreement key: workers open the payload from it and seal results to it. */
  readonly agreement: Uint8Array
  readonly sig: Uint8Array
  /** The encoded envelope (what travels). */
  readonly bytes: Uint8Array
}

/** What the submitter chooses. @example { type: 'encryption', payload, cap: 10_000n, redundancy: 3, created: now, deadline: now + 30_000, seed } */
export interface EnvelopeInit {
  readonly type: TaskType
  readonly payload: Uint8Array
  readonly size: number
  readonly cap: bigint
  readonly priority?: TaskPriority
  readonly redundancy: number
  readonly created: number
  readonly deadline: number
  /** 32 random bytes; keep them until assignment. */
  readonly seed: Uint8Array
}

/** The deadlines of a task's phases. @example phases(env).commitBy */
export interface TaskPhases { readonly commitBy: number, readonly revealBy: number, readonly settleBy: number }

/** Phase ends of an envelope. @example const { commitBy } = phases(env) */
export function phases (env: Pick<TaskEnvelope, 'created' | 'deadline'>): TaskPhases {
  const span = env.deadline - env.created
  return {
    commitBy: env.created + Math.floor(span * PHASE_SPLIT.commit),
    revealBy: env.created + Math.floor(span * PHASE_SPLIT.reveal),
    settleBy: env.deadline
  }
}

function bad (why: string): TaskError {
  return new TaskError('ERR_TASK_BAD_ENVELOPE', why)
}

function unsignedFields (f: Omit<TaskEnvelope, 'id' | 'sig' | 'bytes'>): CborValue[] {
  return [ENVELOPE_VERSION, f.type, f.submitter, f.digest, f.size, f.cap, f.priority, f.redundancy, f.created, f.deadline, f.seedCommit, f.agreement]
}

function check (f: Omit<TaskEnvelope, 'id' | 'sig' | 'bytes'>): void {
  if (!(TASK_TYPES as readonly string[]).includes(f.type)) throw bad(`unknown task type '${String(f.type)}'`)
  if (!(TASK_PRIORITIES as readonly string[]).includes(f.priority)) throw bad(`unknown priority '${String(f.priority)}'`)
  if (!Number.isSafeInteger(f.size) || f.size < 0 || f.size > TASK_PRICES[f.type].maxSize) throw bad(`size ${f.size} is not a whole number within the type's limit`)
  if (!Number.isSafeInteger(f.redundancy) || f.redundancy < 1 || f.redundancy > MAX_REDUNDANCY) throw bad(`redundancy must be 1..${MAX_REDUNDANCY}`)
  if (!Number.isSafeInteger(f.created) || f.created < 0) throw bad('created must be a non-negative integer of ms')
  const span = f.deadline - f.created
  if (!Number.isSafeInteger(f.deadline) || span < MIN_TASK_SPAN_MS || span > MAX_TASK_SPAN_MS) throw bad(`the deadline must be ${MIN_TASK_SPAN_MS} ms to 7 days after creation`)
  if (f.submitter.length !== 32 || f.digest.length !== 32 || f.seedCommit.length !== 32 || f.agreement.length !== 32) throw bad('submitter, digest, seedCommit and agreement are 32 bytes each')
  if (typeof f.cap !== 'bigint' || f.cap < 0n) throw bad('cap must be a non-negative bigint of micro-credits')
  // Every replica is paid the table price, so the escrow must cover full replication.
  const price = priceTask({ type: f.type, size: f.size, priority: f.priority }) * BigInt(f.redundancy)
  if (f.cap < price) throw new TaskError('ERR_TASK_PRICE_BELOW_TABLE', `a cap of ${f.cap} µcr is below the table's ${price} µcr for ${f.redundancy} × ${f.size} units of ${f.type} at ${f.priority} priority`)
}

/**
 * Sign a new envelope. Throws TaskError (ERR_TASK_BAD_ENVELOPE, ERR_TASK_PRICE_BELOW_TABLE) before
 * signing anything.
 *
 * @example
 * const env = await createEnvelope(me, 'net', { type: 'encryption', payload, size, cap, redundancy: 3, created, deadline, seed })
 */
export async function createEnvelope (signer: MessageSigner & { publicKey: Uint8Array, agreementPublicKey: Uint8Array }, networkId: string, init: EnvelopeInit): Promise<TaskEnvelope> {
  if (!(init.payload instanceof Uint8Array)) throw bad('payload must be bytes')
  if (!(init.seed instanceof Uint8Array) || init.seed.length !== 32) throw bad('seed must be 32 bytes')
  const fields = {
    type: init.type,
    submitter: signer.publicKey,
    digest: sha256(init.payload),
    size: init.size,
    cap: init.cap,
    priority: init.priority ?? 'normal',
    redundancy: init.redundancy,
    created: init.created,
    deadline: init.deadline,
    seedCommit: sha256(init.seed),
    agreement: signer.agreementPublicKey
  }
  check(fields)
  const unsigned = encodeCanonical(unsignedFields(fields))
  const message = signedBytes(networkId, ENVELOPE_DOMAIN, unsigned)
  const sig = await signer.sign(message)
  const bytes = encodeCanonical([...unsignedFields(fields), sig])
  return Object.freeze({ ...fields, id: sha256(message), sig, bytes })
}

/**
 * Decode an envelope from the wire and check its shape and price, WITHOUT verifying its signature
 * (see {@link verifyEnvelope}). The id is the hash of every signed field, so a worker that is
 * assigned this id by the submitter itself (an authenticated or signed message) holds the envelope
 * the submitter signed without checking the signature again. Throws ERR_TASK_BAD_ENVELOPE (or
 * ERR_TASK_PRICE_BELOW_TABLE).
 *
 * @example
 * const env = readEnvelope('net', bytes); if (await verifyEnvelope('net', env)) claim(env)
 */
export function readEnvelope (networkId: string, bytes: Uint8Array): TaskEnvelope {
  let value: CborValue
  try {
    value = decodeCanonical(bytes, MAX_ENVELOPE_BYTES)
  } catch (err) {
    throw bad(`envelope does not decode: ${(err as Error).message}`)
  }
  if (!Array.isArray(value) || value.length !== 13 || value[0] !== ENVELOPE_VERSION) throw bad('envelope is not a version-2 array of 13 fields')
  const [, type, submitter, digest, size, cap, priority, redundancy, created, deadline, seedCommit, agreement, sig] = value
  if (typeof type !== 'string' || typeof priority !== 'string') throw bad('type and priority are text')
  if (!(submitter instanceof Uint8Array) || !(digest instanceof Uint8Array) || !(seedCommit instanceof Uint8Array) || !(agreement instanceof Uint8Array) || !(sig instanceof Uint8Array)) throw bad('keys, digests and signature are bytes')
  const int = (v: CborValue | undefined): number => {
    if (typeof v === 'number') return v
    if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= 0n) return Number(v)
    throw bad('size, redundancy and times are integers')
  }
  const capValue = typeof cap === 'number' ? BigInt(cap) : cap
  if (typeof capValue !== 'bigint') throw bad('cap is an integer')
  const fields = {
    type: type as TaskType,
    submitter,
    digest,
    size: int(size),
    cap: capValue,
    priority: priority as TaskPriority,
    redundancy: int(redundancy),
    created: int(created),
    deadline: int(deadline),
    seedCommit,
    agreement
  }
  check(fields)
  if (sig.length !== 64) throw bad('signature is 64 bytes')
  const message = signedBytes(networkId, ENVELOPE_DOMAIN, encodeCanonical(unsignedFields(fields)))
  return Object.freeze({ ...fields, id: sha256(message), sig, bytes })
}

/** Does the submitter's signature over the envelope verify? @example await verifyEnvelope('net', env) */
export async function verifyEnvelope (networkId: string, env: TaskEnvelope): Promise<boolean> {
  return await verifyEd25519(env.submitter, signedBytes(networkId, ENVELOPE_DOMAIN, encodeCanonical(unsignedFields(env))), env.sig)
}

/**
 * Decode and verify an envelope from the wire. Throws ERR_TASK_BAD_ENVELOPE for malformed or
 * forged bytes (and ERR_TASK_PRICE_BELOW_TABLE for an underpriced one).
 *
 * @example
 * const env = await openEnvelope('net', bytes)
 */
export async function openEnvelope (networkId: string, bytes: Uint8Array): Promise<TaskEnvelope> {
  const env = readEnvelope(networkId, bytes)
  if (!(await verifyEnvelope(networkId, env))) throw bad('envelope signature does not verify')
  return env
}

/** Does `payload` match the envelope's digest? @example payloadMatches(env, payload) */
export function payloadMatches (env: TaskEnvelope, payload: Uint8Array): boolean {
  return equalBytes(sha256(payload), env.digest)
}
