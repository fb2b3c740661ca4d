/**
 * What travels sealed in the task protocol: the payload in an assignment (submitter → worker) and
 * the whole reveal body, [result, nonce, resultSig] (worker → submitter), each boxed
 * (identity/box.ts) to its one recipient, so relays and other peers see ciphertext (ARCHITECTURE.md:
 * "payloads and results are encrypted end-to-end"). The nonce and the result signature are sealed
 * with the result because either one lets an observer confirm a guessed result: the nonce against
 * the public commitment, the signature against the worker's key.
 *
 * Keys: a worker's claim carries its X25519 key and binding signature, which the submitter
 * verifies once per worker (PeerKeys); the submitter's key is a field of the signed envelope, so
 * the task id commits to it, and a worker assigned the task by its submitter holds the key the
 * submitter signed. The additional data of each box names the message kind and the task, so a
 * sealed payload cannot be replayed into another task or as a reveal.
 *
 * Everything the protocol checks is computed on the opened plaintext, as before: the payload
 * against the envelope's digest, the reveal against the commitment, the referee and spot-checks
 * on the submitter's own copy. Slash evidence holds digests and signatures only (the offender's
 * signed result digest, the attesters' signatures), never a result, so third parties verify it
 * without anything sealed.
 *
 * A box that does not open, or opens to a malformed body, is a malformed message:
 * ERR_TASK_BAD_MESSAGE (with the IdentityError as its cause), and nothing is applied.
 */
import { decodeCanonical, encodeCanonical } from '../codec/index.ts'
import type { CborValue } from '../codec/index.ts'
import { IdentityError } from '../identity/index.ts'
import type { BoxPeer, PairBox, PeerKeys } from '../identity/index.ts'
import type { TaskEnvelope } from './envelope.ts'
import { TaskError } from './errors.ts'
import { MAX_MESSAGE_BYTES } from './messages.ts'
import { concatBytes, utf8 } from '../bytes.ts'

/** The body of a reveal, as it is sealed. @example const { result, nonce, resultSig } = await openReveal(box, worker, task, sealed) */
export interface RevealBody { readonly result: Uint8Array, readonly nonce: Uint8Array, readonly resultSig: Uint8Array }

const CONTEXT_PREFIX = { assign: utf8('task/assign/1\u0000'), reveal: utf8('task/reveal/1\u0000') } as const

/**
 * The context a task box is bound to (its additional data, box.ts): the message kind, then the
 * task id (32 bytes, so the split is unambiguous).
 *
 * @example
 * await box.seal(worker, payload, taskBoxContext('assign', env.id))
 */
export function taskBoxContext (kind: 'assign' | 'reveal', task: Uint8Array): Uint8Array {
  return concatBytes(CONTEXT_PREFIX[kind], task)
}

function bad (why: string, cause?: unknown): TaskError {
  return new TaskError('ERR_TASK_BAD_MESSAGE', why, cause === undefined ? undefined : { cause })
}

/** The submitter of an envelope, as a box peer. @example await box.seal(submitterOf(env), bytes, ctx) */
export function submitterOf (env: Pick<TaskEnvelope, 'submitter' | 'agreement'>): BoxPeer {
  return { publicKey: env.submitter, agreementPublicKey: env.agreement }
}

async function opened (what: string, open: () => Promise<Uint8Array>): Promise<Uint8Array> {
  try {
    return await open()
  } catch (err) {
    if (err instanceof IdentityError) throw bad(`${what} did not open`, err)
    throw err
  }
}

/**
 * A claim's agreement key, checked against its binding (once per worker: `keys` remembers). Throws
 * ERR_TASK_BAD_MESSAGE for a binding that does not verify.
 *
 * @example
 * const worker = await claimant(keys, msg.from, msg.body)
 */
export async function claimant (keys: PeerKeys, from: Uint8Array, body: { agree: Uint8Array, binding: Uint8Array }): Promise<BoxPeer> {
  let ok: boolean
  try {
    ok = await keys.learn(from, body.agree, body.binding)
  } catch (err) {
    if (err instanceof IdentityError) throw bad('the claim\'s agreement key is malformed', err)
    throw err
  }
  if (!ok) throw bad('the claim\'s agreement-key binding does not verify')
  return { publicKey: from, agreementPublicKey: body.agree }
}

/**
 * Seal a task's payload to one assigned worker.
 *
 * @example
 * ctx.send(worker.publicKey, 'assign', env.id, { seed, workers, sealed: await sealPayload(box, worker, env.id, payload) })
 */
export async function sealPayload (box: PairBox, worker: BoxPeer, task: Uint8Array, payload: Uint8Array): Promise<Uint8Array> {
  return await box.seal(worker, payload, taskBoxContext('assign', task))
}

/**
 * Open the payload of an assignment from the envelope's submitter. Throws ERR_TASK_BAD_MESSAGE
 * when it does not open.
 *
 * @example
 * const payload = await openPayload(box, env, msg.body.sealed)
 */
export async function openPayload (box: PairBox, env: TaskEnvelope, sealed: Uint8Array): Promise<Uint8Array> {
  return await opened('the assigned payload', async () => await box.open(submitterOf(env), sealed, taskBoxContext('assign', env.id)))
}

/**
 * Seal a reveal body to the envelope's submitter.
 *
 * @example
 * ctx.send(env.submitter, 'reveal', env.id, { sealed: await sealReveal(box, env, { result, nonce, resultSig }) })
 */
export async function sealReveal (box: PairBox, env: TaskEnvelope, body: RevealBody): Promise<Uint8Array> {
  return await box.seal(submitterOf(env), encodeCanonical([body.result, body.nonce, body.resultSig]), taskBoxContext('reveal', env.id))
}

/**
 * Open a reveal from `worker` and check its shape. Throws ERR_TASK_BAD_MESSAGE when it does not
 * open or is not [result bytes, 32-byte nonce, 64-byte signature].
 *
 * @example
 * const { result, nonce, resultSig } = await openReveal(box, worker, env.id, msg.body.sealed)
 */
export async function openReveal (box: PairBox, worker: BoxPeer, task: Uint8Array, sealed: Uint8Array): Promise<RevealBody> {
  const plain = await opened('the reveal', async () => await box.open(worker, sealed, taskBoxContext('reveal', task)))
  let value: CborValue
  try {
    value = decodeCanonical(plain, MAX_MESSAGE_BYTES)
  } catch (err) {
    throw bad(`the reveal does not decode: ${(err as Error).message}`)
  }
  if (!Array.isArray(value) || value.length !== 3) throw bad('a reveal is [result, nonce, resultSig]')
  const [result, nonce, resultSig] = value
  if (!(result instanceof Uint8Array) || !(nonce instanceof Uint8Array) || nonce.length !== 32 || !(resultSig instanceof Uint8Array) || resultSig.length !== 64) {
    throw bad('a reveal is [result bytes, 32-byte nonce, 64-byte signature]')
  }
  return { result, nonce, resultSig }
}
