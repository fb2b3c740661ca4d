/**
 * Batched settlement (bodies.ts `settle`, chain.ts): one event closes many escrows, a batch
 * certificate lets each paid worker mint once per batch, the network-work total prices the
 * multiplier, and observations carry a count.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { sha256 } from '@noble/hashes/sha2.js'
import { applyMultiplier, credits, networkHours } from '../../../src/core/economy/index.ts'
import { Account, Ledger, LedgerError, batchStatement, signEvent, sortSignatures } from '../../../src/core/ledger/index.ts'
import type { BatchCertificate, LedgerEvent, QuorumSignature } from '../../../src/core/ledger/index.ts'
import type { Identity } from '../../../src/core/identity/index.ts'
import { toKey } from '../../../src/core/bytes.ts'
import { NET, identities, prng, seedFromEnv, taskId, testConfig } from '../../helpers/fixtures.ts'

const clock = { now: () => 1000 }
const code = (c: string) => (e: unknown): boolean => e instanceof LedgerError && e.code === c

async function setup (): Promise<{ ledger: Ledger, sub: Identity, sub2: Identity, w: Identity[], subAcc: Account }> {
  const [sub, sub2, w1, w2, w3, w4] = await identities(6) as [Identity, Identity, Identity, Identity, Identity, Identity]
  const w = [w1, w2, w3, w4]
  const ledger = Ledger.create({ config: testConfig({ minStake: credits(100), genesis: [sub, sub2, ...w].map(i => ({ account: i.publicKey, amount: credits(10_000) })) }) })
  for (const x of w) await new Account({ ledger, signer: x, clock }).stake(credits(200))
  return { ledger, sub, sub2, w, subAcc: new Account({ ledger, signer: sub, clock }) }
}

const result = (n: number): Uint8Array => sha256(new Uint8Array([n]))

async function sigsOf (settle: Uint8Array, signers: Identity[]): Promise<QuorumSignature[]> {
  return sortSignatures(await Promise.all(signers.map(async s => [s.publicKey, await s.sign(batchStatement(NET, settle))] as const)))
}

describe('settle events', () => {
  it('close many escrows in one event: each payee is paid, the rest comes back, credits are conserved', async () => {
    const { ledger, sub, w, subAcc } = await setup()
    const before = ledger.account(sub.publicKey).balance
    for (let n = 1; n <= 3; n++) await subAcc.reserve(taskId(n), credits(3))
    const settle = await subAcc.settle([
      { task: taskId(1), result: result(1), payments: [[w[0]!.publicKey, credits(1)], [w[1]!.publicKey, credits(1)], [w[2]!.publicKey, credits(1)]] },
      { task: taskId(2), result: result(2), payments: [[w[0]!.publicKey, credits(1)]] },
      { task: taskId(3), result: result(3), payments: [[w[1]!.publicKey, credits(2)], [w[3]!.publicKey, credits(1)]] }
    ])
    assert.equal(settle.body.total, credits(7), 'the first settlement counts its own payments')
    assert.equal(ledger.account(sub.publicKey).reserved, 0n)
    assert.equal(ledger.account(sub.publicKey).balance, before - credits(7))
    assert.equal(ledger.account(w[0]!.publicKey).earned - credits(10_000), credits(2))
    assert.equal(ledger.account(w[1]!.publicKey).earned - credits(10_000), credits(3))
    assert.deepEqual(ledger.unacknowledgedCredits(w[1]!.publicKey).map(id => Buffer.from(id).toString('hex')), [Buffer.from(settle.id).toString('hex')])
    assert.equal(ledger.totals().conservationGap, 0n)
    // Closed for good: a task is reserved once, settled once.
    await assert.rejects(subAcc.reserve(taskId(2), credits(1)), code('ERR_ESCROW_EXISTS'))
    await assert.rejects(subAcc.settle([{ task: taskId(1), result: result(1), payments: [] }]), code('ERR_NO_ESCROW'))
    // The worker's next event counts the payment into its spendable balance.
    const w1 = new Account({ ledger, signer: w[1]!, clock })
    const spendable = w1.spendable()
    assert.equal(await w1.credit(), credits(3))
    assert.equal(w1.spendable(), spendable + credits(3))
  })

  it('refuse bad batches whole: nothing is applied', async () => {
    const { ledger, sub, w, subAcc } = await setup()
    await subAcc.reserve(taskId(1), credits(3))
    await subAcc.reserve(taskId(2), credits(3))
    const root = ledger.stateRoot()
    const good = ledger.settleItem(sub.publicKey, taskId(1), result(1), [[w[0]!.publicKey, credits(1)]])
    const other = ledger.settleItem(sub.publicKey, taskId(2), result(2), [[w[0]!.publicKey, credits(1)]])
    const append = async (items: unknown[]): Promise<unknown> => await ledger.append(sub, 'settle', { items: items as never, total: 0n }, { time: 1000 })
    await assert.rejects(append([good, good]), code('ERR_BAD_SETTLEMENT'), 'a task twice')
    await assert.rejects(append([other, { ...good, release: good.release - 1n }]), code('ERR_BAD_SETTLEMENT'), 'an escrow not emptied')
    await assert.rejects(append([{ ...good, pay: [[sub.publicKey, credits(1), 0n]] }]), code('ERR_SELF_TARGET'), 'paying the submitter')
    await assert.rejects(append([{ ...good, pay: [[w[0]!.publicKey, credits(4), 0n]], release: 0n }]), code('ERR_OVERDRAFT'), 'more than the escrow')
    await assert.rejects(append([{ ...good, releaseTrial: 1n }]), code('ERR_BAD_TRIAL_SPLIT'), 'a trial part the escrow does not have')
    await assert.rejects(append([{ ...good, task: taskId(9) }]), code('ERR_NO_ESCROW'))
    const [hi, lo] = [w[0]!.publicKey, w[1]!.publicKey].sort((a, b) => Buffer.compare(b, a))
    await assert.rejects(append([{ ...good, pay: [[hi!, credits(1), 0n], [lo!, credits(1), 0n]], release: credits(1) }]), code('ERR_BAD_BODY'), 'payees out of order')
    await assert.rejects(append([]), code('ERR_BAD_BODY'), 'no items')
    assert.deepEqual(ledger.stateRoot(), root, 'nothing applied')
    assert.equal(ledger.totals().conservationGap, 0n)
  })

  it('pay trial-funded escrows in trial credit first, as charges do', async () => {
    const [poor, worker] = await identities(2) as [Identity, Identity]
    const ledger = Ledger.create({ config: testConfig({ genesis: [{ account: worker.publicKey, amount: credits(1) }] }) })
    const acc = new Account({ ledger, signer: poor, clock })
    await acc.claimTrial()
    await acc.reserve(taskId(1), credits(4))
    const e = await acc.settle([{ task: taskId(1), result: result(1), payments: [[worker.publicKey, credits(3)]] }])
    assert.deepEqual(e.body.items[0]!.pay[0]!.slice(1), [credits(3), credits(3)])
    assert.equal(e.body.items[0]!.releaseTrial, credits(1))
    assert.equal(ledger.account(worker.publicKey).trial, credits(3))
    assert.equal(ledger.totals().conservationGap, 0n)
  })

  it('count network work along deps: a forged total is refused, one that ignores the frontier only undercounts', async () => {
    const { ledger, sub, sub2, w, subAcc } = await setup()
    const sub2Acc = new Account({ ledger, signer: sub2, clock })
    await subAcc.reserve(taskId(1), credits(5))
    const first = await subAcc.settle([{ task: taskId(1), result: result(1), payments: [[w[0]!.publicKey, credits(5)]] }])
    await sub2Acc.reserve(taskId(2), credits(2))
    const second = await sub2Acc.settle([{ task: taskId(2), result: result(2), payments: [[w[1]!.publicKey, credits(2)]] }])
    assert.equal(second.body.total, credits(7), 'builds on the frontier it names')
    assert.deepEqual(ledger.workFrontier()?.id, second.id)
    // A forged total, signed by its author, is refused by every replica.
    await sub2Acc.reserve(taskId(3), credits(1))
    const item = ledger.settleItem(sub2.publicKey, taskId(3), result(3), [[w[2]!.publicKey, credits(1)]])
    const head = ledger.chainState(sub2.publicKey)!
    for (const total of [credits(9), credits(7)]) {
      const forged = await signEvent(NET, sub2, { type: 'settle', author: sub2.publicKey, seq: head.seq + 1, prev: head.head, deps: [], time: 1000, body: { items: [item], total } })
      const r = await ledger.ingest(forged.bytes)
      assert.equal(r.rejected[0]?.error.code, 'ERR_BAD_NETWORK_WORK', `total ${total}`)
    }
    void first
  })
})

describe('batch rewards', () => {
  async function settled (): Promise<{ ledger: Ledger, sub: Identity, w: Identity[], settle: LedgerEvent<'settle'>, batch: (signers: Identity[], over?: Partial<BatchCertificate>) => Promise<BatchCertificate> }> {
    const { ledger, sub, w, subAcc } = await setup()
    await subAcc.reserve(taskId(1), credits(3))
    await subAcc.reserve(taskId(2), credits(3))
    const settle = await subAcc.settle([
      { task: taskId(1), result: result(1), payments: [[w[0]!.publicKey, credits(1)], [w[1]!.publicKey, credits(1)], [w[2]!.publicKey, credits(1)]] },
      { task: taskId(2), result: result(2), payments: [[w[0]!.publicKey, credits(1)]] }
    ])
    const batch = async (signers: Identity[], over: Partial<BatchCertificate> = {}): Promise<BatchCertificate> =>
      ({ settle: settle.id, base: credits(2), total: settle.body.total, sigs: await sigsOf(settle.id, signers), ...over })
    return { ledger, sub, w, settle, batch }
  }

  it('mint base × multiplier(H) once per worker per batch, H being the settlement\'s network work', async () => {
    const { ledger, w, settle, batch } = await settled()
    const before = ledger.totals().minted
    const cert = await batch([w[1]!, w[2]!])
    await ledger.append(w[0]!, 'reward', { batch: cert }, { deps: [settle.id], time: 1000 })
    const expected = applyMultiplier(credits(2), networkHours(settle.body.total))
    assert.equal(ledger.totals().minted - before, expected)
    assert.ok(expected > credits(19) && expected <= credits(20), 'about 10x at a few micro-hours of network work')
    await assert.rejects(ledger.append(w[0]!, 'reward', { batch: cert }, { deps: [settle.id], time: 1000 }), code('ERR_ALREADY_REWARDED'))
    // Another paid worker mints with the same certificate (signatures are checked once).
    await ledger.append(w[1]!, 'reward', { batch: { ...cert, base: credits(1) } }, { deps: [settle.id], time: 1000 })
    assert.equal(ledger.totals().conservationGap, 0n)
  })

  it('refuse every reward the batch does not support, and change nothing', async () => {
    const { ledger, sub, w, settle, batch } = await settled()
    const root = ledger.stateRoot()
    const reward = async (who: Identity, cert: BatchCertificate, deps = [settle.id]): Promise<unknown> => await ledger.append(who, 'reward', { batch: cert }, { deps, time: 1000 })
    await assert.rejects(reward(w[0]!, await batch([w[1]!])), code('ERR_BAD_CERTIFICATE'), 'below the quorum')
    await assert.rejects(reward(w[0]!, await batch([w[1]!, w[3]!])), code('ERR_BAD_CERTIFICATE'), 'a signer the batch did not pay')
    await assert.rejects(reward(w[0]!, await batch([w[1]!, w[2]!], { base: credits(2) + 1n })), code('ERR_BAD_CERTIFICATE'), 'base above the real payment')
    await assert.rejects(reward(w[0]!, await batch([w[1]!, w[2]!], { total: settle.body.total - 1n })), code('ERR_BAD_NETWORK_WORK'), 'a total other than the settlement\'s')
    // (a worker's events name unacknowledged credits by themselves: acknowledge the payment first)
    await new Account({ ledger, signer: w[2]!, clock }).credit()
    const root2 = ledger.stateRoot()
    await assert.rejects(reward(w[2]!, await batch([w[1]!, w[2]!], { base: credits(1) }), []), code('ERR_BAD_CERTIFICATE'), 'settle event not in deps')
    assert.deepEqual(ledger.stateRoot(), root2)
    await assert.rejects(reward(w[3]!, await batch([w[1]!, w[2]!])), code('ERR_NOT_A_WORKER'), 'a worker the batch did not pay')
    await assert.rejects(reward(sub, await batch([w[1]!, w[2]!])), code('ERR_NOT_A_WORKER'), 'the submitter itself')
    const good = await batch([w[1]!, w[2]!])
    const forged = good.sigs.map(([s, g], i) => [s, i === 0 ? g.map((b, j) => j === 0 ? b ^ 1 : b) : g] as const)
    await assert.rejects(reward(w[0]!, { ...good, sigs: forged }), code('ERR_BAD_CERTIFICATE'), 'a forged signature')
    const otherNet = sortSignatures(await Promise.all([w[1]!, w[2]!].map(async s => [s.publicKey, await s.sign(batchStatement('other-net', settle.id))] as const)))
    await assert.rejects(reward(w[0]!, { ...good, sigs: otherNet }), code('ERR_BAD_CERTIFICATE'), 'signed for another network')
    void root
  })
})

describe('observations with a count', () => {
  it('count as that many observations, and the encoding of 1 is unique', async () => {
    const { ledger, sub, w } = await setup()
    const acc = new Account({ ledger, signer: sub, clock })
    await acc.observe(w[0]!.publicKey, 'task_verified', undefined, 7)
    await acc.observe(w[0]!.publicKey, 'task_verified')
    assert.equal(ledger.observationsOf(w[0]!.publicKey).get(toKey(sub.publicKey))?.get('task_verified'), 8)
    await assert.rejects(ledger.append(sub, 'reputation', { subject: w[0]!.publicKey, kind: 'task_verified', count: 1 }, { time: 1000 }), code('ERR_BAD_BODY'))
    await assert.rejects(ledger.append(sub, 'reputation', { subject: w[0]!.publicKey, kind: 'task_verified', count: 1001 }, { time: 1000 }), code('ERR_BAD_BODY'))
  })
})

describe('batched settlement converges', () => {
  it('replicas that ingest the same events in any order reach the same root', async () => {
    const seed = seedFromEnv()
    const { ledger, w, subAcc } = await setup()
    for (let n = 1; n <= 6; n++) await subAcc.reserve(taskId(n), credits(2))
    const settle = await subAcc.settle([1, 2, 3].map(n => ({ task: taskId(n), result: result(n), payments: [[w[0]!.publicKey, credits(1)], [w[1]!.publicKey, credits(1)]] as Array<[Uint8Array, bigint]> })))
    await ledger.append(w[0]!, 'reward', { batch: { settle: settle.id, base: credits(3), total: settle.body.total, sigs: await sigsOf(settle.id, [w[0]!, w[1]!]) } }, { deps: [settle.id], time: 1000 })
    await subAcc.settle([4, 5, 6].map(n => ({ task: taskId(n), result: result(n), payments: [[w[2]!.publicKey, credits(2)]] as Array<[Uint8Array, bigint]> })))
    await subAcc.observe(w[2]!.publicKey, 'task_verified', undefined, 3)
    const events = ledger.exportEvents()
    const random = prng(seed)
    for (let round = 0; round < 5; round++) {
      const shuffled = [...events]
      for (let i = shuffled.length - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!] }
      const replica = Ledger.create({ config: ledger.config })
      await replica.ingest(shuffled)
      assert.deepEqual(replica.stateRoot(), ledger.stateRoot(), `seed ${seed}, round ${round}`)
      assert.equal(replica.totals().conservationGap, 0n, `seed ${seed}`)
    }
  })
})
