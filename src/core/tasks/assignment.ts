/**
 * Who works on a task, and how their answers bind them.
 *
 * - Selection: the submitter draws workers from the claimants by weighted sampling without
 *   replacement (Efraimidis & Spirakis 2006: key = u^(1/w), keep the largest keys), where u comes
 *   from SHA-256(seed ‖ task ‖ worker) and the seed was committed to in the envelope before any
 *   claim existed. A worker cannot steer which tasks it gets, and the submitter cannot re-roll: the
 *   assignment reveals the seed and anyone can recompute the draw for the same weights.
 * - Commitment: a worker first publishes SHA-256 over (task, its own key, its result's digest, a
 *   fresh 32-byte nonce), and reveals result and nonce only once the commit phase is closed. The
 *   worker's key inside the hash means another worker's commitment is useless to a copier, and
 *   the nonce means a small result space cannot be searched from the commitment.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { encodeCanonical } from '../codec/index.ts'
import { compareBytes, concatBytes, equalBytes } from '../bytes.ts'
import { signedBytes } from '../identity/index.ts'

/** A claimant and its selection weight (reputation × stake factor, seed 003). */
export interface Candidate { readonly worker: Uint8Array, readonly weight: number }

/**
 * The commitment a worker publishes before revealing.
 *
 * @example
 * const c = commitment('net', task, me.publicKey, result, nonce)
 */
export function commitment (networkId: string, task: Uint8Array, worker: Uint8Array, result: Uint8Array, nonce: Uint8Array): Uint8Array {
  return sha256(signedBytes(networkId, 'task-commitment', encodeCanonical([task, worker, sha256(result), nonce])))
}

/** Does a reveal open the commitment? @example opens('net', task, worker, c, result, nonce) */
export function opens (networkId: string, task: Uint8Array, worker: Uint8Array, committed: Uint8Array, result: Uint8Array, nonce: Uint8Array): boolean {
  return equalBytes(commitment(networkId, task, worker, result, nonce), committed)
}

/** Does the revealed seed match the envelope's commitment? @example seedMatches(env.seedCommit, seed) */
export function seedMatches (seedCommit: Uint8Array, seed: Uint8Array): boolean {
  return seed.length === 32 && equalBytes(sha256(seed), seedCommit)
}

/** u in (0, 1) for one worker, from 48 bits of SHA-256(seed ‖ task ‖ worker). */
function uniform (seed: Uint8Array, task: Uint8Array, worker: Uint8Array): number {
  const h = sha256(concatBytes(seed, task, worker))
  let x = 0
  for (let i = 0; i < 6; i++) x = x * 256 + (h[i] as number)
  return (x + 0.5) / 2 ** 48
}

/**
 * Draw up to `n` distinct workers, weighted, from `candidates`, deterministically from the seed.
 * Weights <= 0 (or not finite) are never drawn. Ties (astronomically unlikely) break by key bytes.
 *
 * @example
 * const chosen = selectWorkers(seed, task, [{ worker: a, weight: 0.9 }, { worker: b, weight: 0.3 }], 1)
 */
export function selectWorkers (seed: Uint8Array, task: Uint8Array, candidates: readonly Candidate[], n: number, exclude: readonly Uint8Array[] = []): Uint8Array[] {
  const keyed: Array<{ worker: Uint8Array, key: number }> = []
  for (const c of candidates) {
    if (!(c.weight > 0) || !Number.isFinite(c.weight)) continue
    if (exclude.some(x => equalBytes(x, c.worker))) continue
    if (keyed.some(k => equalBytes(k.worker, c.worker))) continue
    // log(u^(1/w)) = log(u)/w: the same order as the key, without underflow for small weights.
    keyed.push({ worker: c.worker, key: Math.log(uniform(seed, task, c.worker)) / c.weight })
  }
  keyed.sort((a, b) => b.key - a.key || compareBytes(a.worker, b.worker))
  return keyed.slice(0, Math.max(0, n)).map(k => k.worker)
}
