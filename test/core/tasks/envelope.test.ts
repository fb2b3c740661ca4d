import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { sha256 } from '@noble/hashes/sha2.js'
import { createEnvelope, openEnvelope, readEnvelope, verifyEnvelope, payloadMatches, phases, TaskError, ENVELOPE_DOMAIN } from '../../../src/core/tasks/index.ts'
import { priceTask } from '../../../src/core/economy/index.ts'
import { encodeCanonical, decodeCanonical } from '../../../src/core/codec/index.ts'
import { NET, identities } from '../../helpers/fixtures.ts'

const [alice, bob] = await identities(2) as [Awaited<ReturnType<typeof identities>>[number], Awaited<ReturnType<typeof identities>>[number]]
const payload = new Uint8Array([1, 2, 3])
const price = priceTask({ type: 'encryption', size: 3, priority: 'normal' })
const base = { type: 'encryption' as const, payload, size: 3, cap: price * 3n, redundancy: 3, created: 1000, deadline: 11_000, seed: new Uint8Array(32).fill(7) }

function isCode (code: string) {
  return (err: unknown) => err instanceof TaskError && err.code === code
}

describe('task envelope', () => {
  it('round-trips through the wire and verifies', async () => {
    const env = await createEnvelope(alice, NET, base)
    const back = await openEnvelope(NET, env.bytes)
    assert.deepEqual(back.id, env.id)
    assert.equal(back.cap, env.cap)
    assert.deepEqual(back.seedCommit, sha256(base.seed))
    assert.deepEqual(back.agreement, alice.agreementPublicKey)
    assert.ok(payloadMatches(back, payload))
    assert.ok(!payloadMatches(back, new Uint8Array([1, 2, 4])))
    assert.deepEqual(phases(env), { commitBy: 8000, revealBy: 10_000, settleBy: 11_000 })
  })

  it('refuses a cap below the table price times the redundancy, and reserves nothing (nothing is signed)', async () => {
    await assert.rejects(createEnvelope(alice, NET, { ...base, cap: price * 3n - 1n }), isCode('ERR_TASK_PRICE_BELOW_TABLE'))
  })

  it('refuses bad fields', async () => {
    await assert.rejects(createEnvelope(alice, NET, { ...base, redundancy: 0 }), isCode('ERR_TASK_BAD_ENVELOPE'))
    await assert.rejects(createEnvelope(alice, NET, { ...base, deadline: base.created + 10 }), isCode('ERR_TASK_BAD_ENVELOPE'))
    await assert.rejects(createEnvelope(alice, NET, { ...base, type: 'mining' as never }), isCode('ERR_TASK_BAD_ENVELOPE'))
    await assert.rejects(createEnvelope(alice, NET, { ...base, seed: new Uint8Array(31) }), isCode('ERR_TASK_BAD_ENVELOPE'))
    await assert.rejects(createEnvelope(alice, NET, { ...base, size: -1 }), isCode('ERR_TASK_BAD_ENVELOPE'))
  })

  it('detects forgery: another signer, another network, a changed field', async () => {
    const env = await createEnvelope(alice, NET, base)
    await assert.rejects(openEnvelope('other-net', env.bytes), isCode('ERR_TASK_BAD_ENVELOPE'))
    const fields = decodeCanonical(env.bytes) as unknown[]
    fields[2] = bob.publicKey // claims bob submitted it
    await assert.rejects(openEnvelope(NET, encodeCanonical(fields)), isCode('ERR_TASK_BAD_ENVELOPE'))
    const raised = decodeCanonical(env.bytes) as unknown[]
    raised[5] = env.cap + 1n
    const forged = readEnvelope(NET, encodeCanonical(raised)) // shape is fine
    assert.equal(await verifyEnvelope(NET, forged), false)
    // Another agreement key (to read the payload sealed from it): another id, and no valid signature.
    const rekeyed = decodeCanonical(env.bytes) as unknown[]
    rekeyed[11] = bob.agreementPublicKey
    const swapped = readEnvelope(NET, encodeCanonical(rekeyed))
    assert.notDeepEqual(swapped.id, env.id)
    assert.equal(await verifyEnvelope(NET, swapped), false)
    rekeyed[11] = new Uint8Array(31)
    assert.throws(() => readEnvelope(NET, encodeCanonical(rekeyed)), isCode('ERR_TASK_BAD_ENVELOPE'))
    assert.equal(ENVELOPE_DOMAIN, 'task-envelope')
  })

  it('refuses garbage and truncation with a typed error', async () => {
    const env = await createEnvelope(alice, NET, base)
    for (let cut = 0; cut < env.bytes.length; cut += 7) {
      await assert.rejects(openEnvelope(NET, env.bytes.slice(0, cut)), isCode('ERR_TASK_BAD_ENVELOPE'))
    }
    await assert.rejects(openEnvelope(NET, new Uint8Array(5000)), isCode('ERR_TASK_BAD_ENVELOPE'))
  })
})
