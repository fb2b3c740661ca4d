import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { verifyCertificate } from '../../../src/core/ledger/index.ts'
import { NET, certify, identities, taskId } from '../../helpers/fixtures.ts'

describe('verifyCertificate()', () => {
  it('accepts the quorum\'s certificate, and still refuses every forgery after it has accepted the genuine one', async () => {
    const [sub, w1, w2, w3] = await identities(4) as [NonNullable<Awaited<ReturnType<typeof identities>>[number]>, NonNullable<Awaited<ReturnType<typeof identities>>[number]>, NonNullable<Awaited<ReturnType<typeof identities>>[number]>, NonNullable<Awaited<ReturnType<typeof identities>>[number]>]
    const cert = await certify(NET, sub, [w1, w2], { task: taskId(1), base: 1000n })
    assert.equal(await verifyCertificate(NET, cert, 2), true)
    assert.equal(await verifyCertificate(NET, cert, 2), true, 'again (remembered)')
    const flipped = cert.sigs.map(([s, g], i) => [s, i === 1 ? g.map((b, j) => j === 5 ? b ^ 1 : b) : g] as const)
    assert.equal(await verifyCertificate(NET, { ...cert, sigs: flipped }, 2), false, 'a flipped signature byte')
    assert.equal(await verifyCertificate('other-net', cert, 2), false, 'another network')
    assert.equal(await verifyCertificate(NET, { ...cert, base: 1001n }, 2), false, 'a changed base')
    assert.equal(await verifyCertificate(NET, { ...cert, hours: 5 }, 2), false, 'changed hours')
    assert.equal(await verifyCertificate(NET, cert, 3), false, 'a quorum it does not reach')
    const outsider = await certify(NET, sub, [w1, w3], { task: taskId(1), base: 1000n })
    assert.equal(await verifyCertificate(NET, { ...cert, sigs: [...cert.sigs, ...outsider.sigs.filter(([s]) => s === w3.publicKey)] }, 2), false, 'a signer that is not a listed worker')
  })
})
