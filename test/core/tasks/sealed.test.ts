import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { BOX_OVERHEAD, IdentityError, PairBox, PeerKeys } from '../../../src/core/identity/index.ts'
import type { Identity } from '../../../src/core/identity/index.ts'
import { encodeCanonical } from '../../../src/core/codec/index.ts'
import { claimant, commitment, taskBoxContext, createEnvelope, openPayload, openReveal, opens, payloadMatches, sealPayload, sealReveal, TaskError } from '../../../src/core/tasks/index.ts'
import type { TaskEnvelope } from '../../../src/core/tasks/index.ts'
import { priceTask } from '../../../src/core/economy/index.ts'
import { NET, identities } from '../../helpers/fixtures.ts'

const [submitter, worker, other] = await identities(3) as [Identity, Identity, Identity]
const payload = new Uint8Array([1, 2, 3])
const price = priceTask({ type: 'encryption', size: 3, priority: 'normal' })
const init = { type: 'encryption' as const, payload, size: 3, cap: price * 3n, redundancy: 3, created: 1000, deadline: 11_000 }
const env = await createEnvelope(submitter, NET, { ...init, seed: new Uint8Array(32).fill(7) })
const env2 = await createEnvelope(submitter, NET, { ...init, seed: new Uint8Array(32).fill(8) })
const peer = (id: Identity) => ({ publicKey: id.publicKey, agreementPublicKey: id.agreementPublicKey })
const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)

const isBad = (err: unknown): boolean => err instanceof TaskError && err.code === 'ERR_TASK_BAD_MESSAGE'
const isBadBox = (err: unknown): boolean => isBad(err) && (err as TaskError).cause instanceof IdentityError &&
  ((err as TaskError).cause as IdentityError).code === 'ERR_SEAL_OPEN_FAILED'

describe('sealed task messages', () => {
  const sBox = new PairBox(submitter, { networkId: NET })
  const wBox = new PairBox(worker, { networkId: NET })

  it('a worker opens its assigned payload from the envelope\'s key; the digest check runs on the plaintext', async () => {
    const sealed = await sealPayload(sBox, peer(worker), env.id, payload)
    assert.equal(sealed.length, BOX_OVERHEAD + payload.length)
    const opened = await openPayload(wBox, env, sealed)
    assert.deepEqual(opened, payload)
    assert.ok(payloadMatches(env, opened))
  })

  it('refuses a payload sealed for another task, another worker, or from a key the envelope does not name', async () => {
    const sealed = await sealPayload(sBox, peer(worker), env.id, payload)
    await assert.rejects(openPayload(wBox, env2, sealed), isBadBox, 'another task')
    await assert.rejects(openPayload(new PairBox(other, { networkId: NET }), env, sealed), isBadBox, 'another worker')
    const rekeyed: TaskEnvelope = { ...env, agreement: other.agreementPublicKey }
    await assert.rejects(openPayload(wBox, rekeyed, sealed), isBadBox, 'another submitter key')
    // A reveal box is not a payload box (the kind is in the additional data).
    const reveal = await sealReveal(wBox, env, { result: payload, nonce: new Uint8Array(32), resultSig: new Uint8Array(64) })
    await assert.rejects(openPayload(sBox, env, reveal), isBadBox)
  })

  it('the submitter opens a reveal, and the commitment opens on the plaintext', async () => {
    const result = new Uint8Array([9, 9])
    const nonce = new Uint8Array(32).fill(5)
    const c = commitment(NET, env.id, worker.publicKey, result, nonce)
    const sealed = await sealReveal(wBox, env, { result, nonce, resultSig: new Uint8Array(64).fill(1) })
    const body = await openReveal(sBox, peer(worker), env.id, sealed)
    assert.deepEqual(body.result, result)
    assert.deepEqual(body.resultSig, new Uint8Array(64).fill(1))
    assert.ok(opens(NET, env.id, worker.publicKey, c, body.result, body.nonce))
    await assert.rejects(openReveal(sBox, peer(other), env.id, sealed), isBadBox, 'another sender')
    await assert.rejects(openReveal(sBox, peer(worker), env2.id, sealed), isBadBox, 'another task')
  })

  it('refuses a reveal box that opens to a malformed body', async () => {
    const ctx = taskBoxContext('reveal', env.id)
    for (const inner of [new Uint8Array([0xff]), encodeCanonical([new Uint8Array(1), new Uint8Array(31), new Uint8Array(64)]), encodeCanonical([new Uint8Array(1)])]) {
      const sealed = await wBox.seal(sBox.self, inner, ctx)
      await assert.rejects(openReveal(sBox, peer(worker), env.id, sealed), isBad)
    }
  })

  it('property: every mutated byte of a sealed payload is a bad message', async () => {
    const sealed = await sealPayload(sBox, peer(worker), env.id, payload)
    await fc.assert(fc.asyncProperty(fc.nat(sealed.length - 1), fc.integer({ min: 1, max: 255 }), async (i, xor) => {
      const m = sealed.slice()
      m[i] = (m[i] as number) ^ xor
      await assert.rejects(openPayload(wBox, env, m), isBad)
    }), { seed, numRuns: 100 })
  })

  it('a claim\'s key is taken only with a binding that verifies', async () => {
    const keys = new PeerKeys({ networkId: NET })
    const binding = await wBox.binding()
    await assert.rejects(claimant(keys, worker.publicKey, { agree: other.agreementPublicKey, binding }), isBad)
    await assert.rejects(claimant(keys, other.publicKey, { agree: worker.agreementPublicKey, binding }), isBad)
    assert.deepEqual(await claimant(keys, worker.publicKey, { agree: worker.agreementPublicKey, binding }), peer(worker))
  })
})
