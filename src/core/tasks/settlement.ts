/**
 * What settling a verified task writes to the ledger, as pure planning:
 *
 * - every agreeing worker is paid the table price for the task (each replica does the whole
 *   work), charged from the escrow; what is left is released to the submitter;
 * - a settlement certificate (submitter + a quorum of the agreeing workers) lets each agreeing
 *   worker mint the contribution-multiplier reward on the real part of its payment
 *   (ledger rule: `base` <= the real part of the charge named in the reward's deps);
 * - a proven outlier is slashed for InvalidResult with its own signed reveal as evidence, and the
 *   slashed stake goes to its honest co-workers (economy/stake-policy `splitSlash`).
 *
 * Certificates travel between submitter and workers in the `settled` message, encoded here.
 */
import { decodeCanonical, encodeCanonical } from '../codec/index.ts'
import type { CborValue } from '../codec/index.ts'
import { compareBytes } from '../bytes.ts'
import { priceTask } from '../economy/index.ts'
import type { Certificate, QuorumSignature } from '../ledger/index.ts'
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
 * Encode a certificate for the `settled` message (canonical CBOR, fields in a fixed order).
 *
 * @example
 * const bytes = encodeCertificate(cert)
 */
export function encodeCertificate (cert: Certificate): Uint8Array {
  return encodeCanonical([cert.task, cert.result, cert.base, cert.hours, cert.workers, cert.submitter, cert.sigs.map(([s, g]) => [s, g])])
}

function bytesOf (v: CborValue | undefined, length: number, what: string): Uint8Array {
  if (v instanceof Uint8Array && v.length === length) return v
  throw new TaskError('ERR_TASK_BAD_MESSAGE', `certificate ${what} is not ${length} bytes`)
}

/**
 * Decode a certificate from a `settled` message. Shape only: the ledger verifies the signatures
 * when the reward is appended. Throws ERR_TASK_BAD_MESSAGE.
 *
 * @example
 * const cert = decodeCertificate(msg.body.cert)
 */
export function decodeCertificate (bytes: Uint8Array): Certificate {
  let v: CborValue
  try {
    v = decodeCanonical(bytes, 16 * 1024)
  } catch (err) {
    throw new TaskError('ERR_TASK_BAD_MESSAGE', `certificate does not decode: ${(err as Error).message}`)
  }
  if (!Array.isArray(v) || v.length !== 7) throw new TaskError('ERR_TASK_BAD_MESSAGE', 'certificate is not an array of 7 fields')
  const [task, result, base, hours, workers, submitter, sigs] = v
  const baseValue = typeof base === 'number' ? BigInt(base) : base
  if (typeof baseValue !== 'bigint' || baseValue < 0n) throw new TaskError('ERR_TASK_BAD_MESSAGE', 'certificate base is not a non-negative integer')
  if (typeof hours !== 'number' || !Number.isSafeInteger(hours) || hours < 0) throw new TaskError('ERR_TASK_BAD_MESSAGE', 'certificate hours is not a non-negative integer')
  if (!Array.isArray(workers) || !Array.isArray(sigs)) throw new TaskError('ERR_TASK_BAD_MESSAGE', 'certificate workers and sigs are arrays')
  const quorumSigs: QuorumSignature[] = sigs.map(pair => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TaskError('ERR_TASK_BAD_MESSAGE', 'certificate signature is not a pair')
    return [bytesOf(pair[0], 32, 'signer'), bytesOf(pair[1], 64, 'signature')] as const
  })
  return {
    task: bytesOf(task, 32, 'task'),
    result: bytesOf(result, 32, 'result'),
    base: baseValue,
    hours,
    workers: workers.map(w => bytesOf(w, 32, 'worker')),
    submitter: bytesOf(submitter, 32, 'submitter'),
    sigs: quorumSigs
  }
}

/** Keys in the ascending order certificates and slash bodies require. @example sortKeys([b, a]) */
export function sortKeys (keys: readonly Uint8Array[]): Uint8Array[] {
  return [...keys].sort(compareBytes)
}
