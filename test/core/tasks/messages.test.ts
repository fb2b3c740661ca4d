import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { decodeCanonical, encodeCanonical } from '../../../src/core/codec/index.ts'
import { frameTaskMessage, openTaskMessage, signTaskMessage, TaskError, TASK_MESSAGE_KINDS } from '../../../src/core/tasks/index.ts'
import { NET, identities } from '../../helpers/fixtures.ts'

const [alice, bob] = await identities(2) as [NonNullable<Awaited<ReturnType<typeof identities>>[number]>, NonNullable<Awaited<ReturnType<typeof identities>>[number]>]
const task = new Uint8Array(32).fill(3)
const bad = (err: unknown): boolean => err instanceof TaskError && err.code === 'ERR_TASK_BAD_MESSAGE'

describe('task messages', () => {
  it('round-trip every kind with its sender', async () => {
    const k32 = new Uint8Array(32).fill(1)
    const bodies = {
      claim: { agree: k32, binding: new Uint8Array(64) },
      assign: { seed: k32, workers: [k32], sealed: new Uint8Array([1, 2]) },
      commit: { commitment: k32 },
      open: {},
      reveal: { sealed: new Uint8Array([5]) },
      certify: { event: k32 },
      endorse: { sig: new Uint8Array(64) },
      settled: { sigs: new Uint8Array([1]) },
      attest: { offender: k32, claim: k32, digest: k32 },
      attested: { offender: k32, sig: new Uint8Array(64) },
      cancel: { reason: 'not drawn' }
    } as const
    assert.deepEqual(Object.keys(bodies).sort(), [...TASK_MESSAGE_KINDS].sort())
    for (const [kind, body] of Object.entries(bodies)) {
      const bytes = await signTaskMessage(alice, NET, kind as never, task, body as never)
      const msg = await openTaskMessage(NET, bytes)
      assert.equal(msg.kind, kind)
      assert.deepEqual(msg.from, alice.publicKey)
      assert.deepEqual(msg.body, body)
    }
  })

  it('refuses a forged sender, another network, a kind swapped after signing', async () => {
    const bytes = await signTaskMessage(alice, NET, 'commit', task, { commitment: new Uint8Array(32) })
    const fields = decodeCanonical(bytes) as unknown[]
    fields[3] = bob.publicKey
    await assert.rejects(openTaskMessage(NET, encodeCanonical(fields)), bad)
    await assert.rejects(openTaskMessage('other', bytes), bad)
    const open = await signTaskMessage(alice, NET, 'open', task, {})
    const swapped = decodeCanonical(open) as unknown[]
    swapped[1] = 'claim'
    await assert.rejects(openTaskMessage(NET, encodeCanonical(swapped)), bad)
  })

  it('refuses bodies that do not fit their kind, before signing and after', async () => {
    await assert.rejects(signTaskMessage(alice, NET, 'commit', task, { commitment: new Uint8Array(31) }), bad)
    await assert.rejects(signTaskMessage(alice, NET, 'claim', task, { extra: 1 } as never), bad)
    await assert.rejects(signTaskMessage(alice, NET, 'claim', task, { agree: new Uint8Array(31), binding: new Uint8Array(64) }), bad)
    await assert.rejects(signTaskMessage(alice, NET, 'reveal', task, { result: new Uint8Array(1), nonce: new Uint8Array(32), resultSig: new Uint8Array(64) } as never), bad, 'a reveal in clear is refused')
    await assert.rejects(signTaskMessage(alice, NET, 'nope' as never, task, {} as never), bad)
    await assert.rejects(signTaskMessage(alice, NET, 'open', new Uint8Array(3), {}), bad)
    const bytes = await signTaskMessage(alice, NET, 'commit', task, { commitment: new Uint8Array(32) })
    for (let cut = 0; cut < bytes.length; cut += 9) await assert.rejects(openTaskMessage(NET, bytes.slice(0, cut)), bad)
  })

  it('accept an unsigned frame only from the sender the transport authenticated', async () => {
    const framed = frameTaskMessage('commit', task, alice.publicKey, { commitment: new Uint8Array(32) })
    const msg = await openTaskMessage(NET, framed, alice.publicKey)
    assert.equal(msg.kind, 'commit')
    assert.deepEqual(msg.from, alice.publicKey)
    await assert.rejects(openTaskMessage(NET, framed), bad, 'no authenticated sender: a frame proves nothing')
    await assert.rejects(openTaskMessage(NET, framed, bob.publicKey), bad, 'bob cannot pass a frame off as alice\'s')
    assert.throws(() => frameTaskMessage('commit', task, alice.publicKey, { commitment: new Uint8Array(3) }), bad)
  })
})
