/** Shared test fixtures: identities, a seeded PRNG, certificates and attestations. */
import { Identity } from '../../src/core/identity/index.ts'
import { compareBytes } from '../../src/core/bytes.ts'
import { Ledger } from '../../src/core/ledger/ledger.ts'
import type { LedgerConfig } from '../../src/core/ledger/config.ts'
import { attestationStatement, certificateStatement, resultStatement, sortSignatures } from '../../src/core/ledger/certificate.ts'
import type { Attestation, Certificate } from '../../src/core/ledger/bodies.ts'
import { findProofOfWork } from '../../src/core/ledger/effects.ts'
import type { SlashReason } from '../../src/core/economy/index.ts'
import { seededRandom } from '../../src/runtime/memory-network.ts'

export const NET = 'edge-net-test'

/** Test networks: cheap proof of work, short locks, so tests run fast. */
export function testConfig (overrides: Partial<LedgerConfig> = {}): Partial<LedgerConfig> & { networkId: string } {
  return { networkId: NET, trialDifficulty: 4, stakeLockMs: 1000, rewardLockMs: 1000, ...overrides }
}

export function newLedger (overrides: Partial<LedgerConfig> = {}): Ledger {
  return Ledger.create({ config: testConfig(overrides) })
}

const pool: Identity[] = []
/** `n` identities, generated once per process and reused (key generation is the slow part). */
export async function identities (n: number): Promise<Identity[]> {
  while (pool.length < n) pool.push(await Identity.generate())
  return pool.slice(0, n)
}

/** mulberry32: a small seeded PRNG for simulations (not for keys); the runtime's own. */
export const prng = seededRandom

export function seedFromEnv (): number {
  return Number(process.env.SEED ?? (Date.now() % 2 ** 31))
}

export function taskId (n: number): Uint8Array {
  const id = new Uint8Array(32)
  new DataView(id.buffer).setUint32(0, n)
  id[31] = 7
  return id
}

/** A settlement certificate signed by the submitter and the given workers. */
export async function certify (networkId: string, submitter: Identity, workers: Identity[], fields: { task: Uint8Array, base: bigint, hours?: number, result?: Uint8Array }): Promise<Certificate> {
  const unsigned = {
    task: fields.task,
    result: fields.result ?? new Uint8Array(32).fill(9),
    base: fields.base,
    hours: fields.hours ?? 0,
    workers: workers.map(w => w.publicKey).sort(compare),
    submitter: submitter.publicKey
  }
  const statement = certificateStatement(networkId, unsigned)
  const sigs = await Promise.all([submitter, ...workers].map(async s => [s.publicKey, await s.sign(statement)] as const))
  return { ...unsigned, sigs: sortSignatures(sigs as never) }
}

/** Slash evidence: the offender's signed (wrong) claim for `task` and the signers' attestation. */
export async function attest (networkId: string, offender: Identity, reason: SlashReason, signers: Identity[], task: Uint8Array): Promise<Attestation> {
  const claim = new Uint8Array(32).fill(4)
  const unsigned = { task, digest: new Uint8Array(32).fill(3), claim, claimSig: await offender.sign(resultStatement(networkId, task, claim)) }
  const statement = attestationStatement(networkId, offender.publicKey, reason, unsigned)
  const sigs = await Promise.all(signers.map(async s => [s.publicKey, await s.sign(statement)] as const))
  return { ...unsigned, sigs: sortSignatures(sigs as never) }
}

/** Byte order, for sorting keys as the encoding requires. */
export const compare = compareBytes

/** Claim the trial grant for `who` on `ledger`. */
export async function claimTrial (ledger: Ledger, who: Identity, time = 1): Promise<void> {
  await ledger.append(who, 'trial', { nonce: findProofOfWork(ledger.config.networkId, who.publicKey, ledger.config.trialDifficulty) }, { time })
}
