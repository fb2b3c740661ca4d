/**
 * Quorum-signed statements the ledger checks: settlement certificates (they let a worker mint a
 * reward) and slash attestations (they let anyone slash an offender). Both are domain-separated
 * (`settlement`, `slash-attestation`) so neither can be replayed as the other or as an event.
 */
import { encodeCanonical } from '../codec/index.ts'
import { sha256 } from '@noble/hashes/sha2.js'
import { compareBytes, concatBytes, equalBytes, toKey } from '../bytes.ts'
import { signedBytes, verifyEd25519 } from '../identity/index.ts'
import type { SlashReason } from '../economy/index.ts'
import type { Attestation, BatchCertificate, Certificate, QuorumSignature } from './bodies.ts'

/** The bytes every signer of a certificate signs. @example certificateStatement('net', cert) */
export function certificateStatement (networkId: string, cert: Omit<Certificate, 'sigs'>): Uint8Array {
  return signedBytes(networkId, 'settlement', encodeCanonical([cert.task, cert.result, cert.base, cert.hours, cert.workers, cert.submitter]))
}

/**
 * The bytes a worker signs to vouch for a batch: the id of the submitter's `settle` event, which
 * hashes every task, result digest and payment of the batch. One signature per worker per batch.
 * @example const sig = await worker.sign(batchStatement('net', settleEvent.id))
 */
export function batchStatement (networkId: string, settle: Uint8Array): Uint8Array {
  return signedBytes(networkId, 'settlement-batch', encodeCanonical([settle]))
}

/**
 * Whether every signature of a batch certificate verifies over its statement (memoized: each
 * worker's reward carries the same signatures). Who may sign (workers paid by the settle event,
 * at least `quorum` of them) is a chain rule: it needs the settle event (chain.ts).
 * @example await verifyBatchSignatures('net', reward.body.batch)
 */
export async function verifyBatchSignatures (networkId: string, batch: Pick<BatchCertificate, 'settle' | 'sigs'>): Promise<boolean> {
  const statement = batchStatement(networkId, batch.settle)
  const key = toKey(sha256(concatBytes(statement, ...batch.sigs.flatMap(([signer, sig]) => [signer, sig]))))
  if (verifiedCertificates.has(key)) return true
  const ok = await allVerify(batch.sigs, statement)
  if (ok) remember(key)
  return ok
}

function remember (key: string): void {
  verifiedCertificates.add(key)
  if (verifiedCertificates.size > VERIFIED_CERTIFICATES_MAX) verifiedCertificates.delete(verifiedCertificates.values().next().value as string)
}

/** The bytes every signer of a slash attestation signs. */
export function attestationStatement (networkId: string, offender: Uint8Array, reason: SlashReason, att: Pick<Attestation, 'task' | 'digest' | 'claim'>): Uint8Array {
  return signedBytes(networkId, 'slash-attestation', encodeCanonical([offender, reason, att.task, att.digest, att.claim]))
}

/**
 * The bytes a worker signs when it states its result for a task (`task-result`). A slash needs
 * the offender's own such statement as evidence.
 * @example const sig = await worker.sign(resultStatement('net', task, digest))
 */
export function resultStatement (networkId: string, task: Uint8Array, digest: Uint8Array): Uint8Array {
  return signedBytes(networkId, 'task-result', encodeCanonical([task, digest]))
}

async function allVerify (sigs: readonly QuorumSignature[], message: Uint8Array): Promise<boolean> {
  const results = await Promise.all(sigs.map(([signer, sig]) => verifyEd25519(signer, message, sig)))
  return results.every(Boolean)
}

function includes (list: readonly Uint8Array[], x: Uint8Array): boolean {
  return list.some(y => equalBytes(x, y))
}

/**
 * A certificate is valid when the submitter signed it, at least `quorum` distinct workers (other
 * than the submitter) signed it, every signer is the submitter or a listed worker, and every
 * signature verifies. A quorum of 2 is the majority of the default redundancy of 3.
 * @example await verifyCertificate('net', cert, 2)
 */
export async function verifyCertificate (networkId: string, cert: Certificate, quorum: number): Promise<boolean> {
  let submitterSigned = false
  let workerSigners = 0
  for (const [signer] of cert.sigs) {
    if (equalBytes(signer, cert.submitter)) submitterSigned = true
    else if (includes(cert.workers, signer)) workerSigners++
    else return false
  }
  if (!submitterSigned || workerSigners < quorum) return false
  // Every agreeing worker's reward carries the same certificate: verify its signatures once.
  const statement = certificateStatement(networkId, cert)
  const key = toKey(sha256(concatBytes(statement, ...cert.sigs.flatMap(([signer, sig]) => [signer, sig]))))
  if (verifiedCertificates.has(key)) return true
  const ok = await allVerify(cert.sigs, statement)
  if (ok) remember(key)
  return ok
}

/** Certificates whose signatures verified (by a digest of statement and signatures), oldest first. */
const verifiedCertificates = new Set<string>()
const VERIFIED_CERTIFICATES_MAX = 4096

/**
 * An attestation is valid when the offender signed `claim` for the task, the quorum's `digest`
 * differs from it, and at least `quorum` distinct signers, none of them the offender, signed the
 * same statement with valid signatures. (Whether the attesters are staked is a chain rule: it
 * needs their chains, see chain.ts.)
 */
export async function verifyAttestation (networkId: string, offender: Uint8Array, reason: SlashReason, att: Attestation, quorum: number): Promise<boolean> {
  if (att.sigs.length < quorum) return false
  if (att.sigs.some(([signer]) => equalBytes(signer, offender))) return false
  if (equalBytes(att.claim, att.digest)) return false
  if (!(await verifyEd25519(offender, resultStatement(networkId, att.task, att.claim), att.claimSig))) return false
  return allVerify(att.sigs, attestationStatement(networkId, offender, reason, att))
}

/** Sort quorum signatures by signer, as the encoding requires. */
export function sortSignatures (sigs: QuorumSignature[]): QuorumSignature[] {
  return [...sigs].sort(([a], [b]) => compareBytes(a, b))
}
