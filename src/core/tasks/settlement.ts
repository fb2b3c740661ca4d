/**
 * What settling a verified task writes to the ledger, as pure planning:
 *
 * - every agreeing worker is paid the table price for the task (each replica does the whole
 *   work) from the escrow; what is left is released to the submitter. Verified tasks are settled
 *   in batches: one `settle` event closes many escrows (ledger bodies.ts);
 * - a batch certificate (a quorum of the workers the batch paid, signing the settle event's id)
 *   lets each paid worker mint the contribution-multiplier reward on the real part of what the
 *   batch paid it, once per batch (ledger rule, chain.ts);
 * - a proven outlier is slashed for InvalidResult with its own signed reveal as evidence, and the
 *   slashed stake goes to its honest co-workers (economy/stake-policy `splitSlash`).
 *
 * Endorsements travel from the submitter to the workers in the `settled` message, encoded here.
 */
import { decodeCanonical, encodeCanonical } from '../codec/index.ts'
import type { CborValue } from '../codec/index.ts'
import { compareBytes } from '../bytes.ts'
import { priceTask } from '../economy/index.ts'
import type { QuorumSignature } from '../ledger/index.ts'
import type { TaskEnvelope } from './envelope.ts'
import { TaskError } from './errors.ts'

/** The payments of a settled task. @example const p = planPayments(env, agreeing) */
export interface PaymentPlan {
  /** The price per agreeing worker. */
  readonly price: bigint
  readonly charges: ReadonlyArray<{ readonly payee: Uint8Array, readonly amount: bigint }>
  /** What goes back to the submitter. */
  readonly release: bigint
  /** What the submitter paid in all. */
  readonly cost: bigint
}

/**
 * Pay each agreeing worker the table price, release the rest of the cap. Never pays more than the
 * cap (the envelope's cap covers price × redundancy, and at most `redundancy` workers agree).
 *
 * @example
 * planPayments(env, [a, b, c]).release
 */
export function planPayments (env: TaskEnvelope, agreeing: readonly Uint8Array[]): PaymentPlan {
  const price = priceTask({ type: env.type, size: env.size, priority: env.priority })
  const paid = agreeing.slice(0, env.redundancy)
  const cost = price * BigInt(paid.length)
  if (cost > env.cap) throw new TaskError('ERR_TASK_BAD_ENVELOPE', 'the cap does not cover the payments (envelope was not checked)')
  return { price, charges: paid.map(payee => ({ payee, amount: price })), release: env.cap - cost, cost }
}

/**
 * Encode a batch's endorsements for the `settled` message: canonical CBOR `[[signer, sig], ...]`,
 * ascending by signer (the order a batch certificate requires).
 *
 * @example
 * const bytes = encodeBatchSignatures(sigs)
 */
export function encodeBatchSignatures (sigs: readonly QuorumSignature[]): Uint8Array {
  return encodeCanonical(sigs.map(([s, g]) => [s, g]))
}

function bytesOf (v: CborValue | undefined, length: number, what: string): Uint8Array {
  if (v instanceof Uint8Array && v.length === length) return v
  throw new TaskError('ERR_TASK_BAD_MESSAGE', `batch ${what} is not ${length} bytes`)
}

/**
 * Decode a `settled` message's endorsements. Shape only: the ledger verifies the signatures (and
 * who may sign) when the reward is appended. Throws ERR_TASK_BAD_MESSAGE.
 *
 * @example
 * const sigs = decodeBatchSignatures(msg.body.sigs)
 */
export function decodeBatchSignatures (bytes: Uint8Array): QuorumSignature[] {
  let v: CborValue
  try {
    v = decodeCanonical(bytes, 16 * 1024)
  } catch (err) {
    throw new TaskError('ERR_TASK_BAD_MESSAGE', `batch signatures do not decode: ${(err as Error).message}`)
  }
  if (!Array.isArray(v) || v.length < 1 || v.length > 64) throw new TaskError('ERR_TASK_BAD_MESSAGE', 'batch signatures are a list of 1 to 64 pairs')
  return v.map(pair => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TaskError('ERR_TASK_BAD_MESSAGE', 'a batch signature is a pair')
    return [bytesOf(pair[0], 32, 'signer'), bytesOf(pair[1], 64, 'signature')] as const
  })
}

/** Keys in the ascending order certificates and slash bodies require. @example sortKeys([b, a]) */
export function sortKeys (keys: readonly Uint8Array[]): Uint8Array[] {
  return [...keys].sort(compareBytes)
}
