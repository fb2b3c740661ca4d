import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { credits, slashAmount } from '../../../src/core/economy/index.ts'
import { signEvent } from '../../../src/core/ledger/event.ts'
import { LedgerError } from '../../../src/core/ledger/errors.ts'
import { NET, attest, certify, claimTrial, compare, identities, newLedger, taskId } from '../../helpers/fixtures.ts'
import type { Ledger } from '../../../src/core/ledger/ledger.ts'
import type { LedgerEvent } from '../../../src/core/ledger/event.ts'
import type { Identity } from '../../../src/core/identity/index.ts'

/** The submitter escrows `amount` for task `n` and pays it all to `who` (real credits). */
async function pay (ledger: Ledger, submitter: Identity, who: Identity, amount: bigint, n: number): Promise<LedgerEvent<'escrow'>> {
  await ledger.append(submitter, 'escrow', ledger.escrowBody(submitter.publicKey, 'reserve', taskId(n), amount), { time: 5 })
  return ledger.append(submitter, 'escrow', ledger.escrowBody(submitter.publicKey, 'charge', taskId(n), amount, who.publicKey), { time: 5 })
}

/** `who` mints its reward for task `n` with a certificate signed by the submitter and `workers`. */
async function reward (ledger: Ledger, submitter: Identity, workers: Identity[], who: Identity, base: bigint, n: number, charge: LedgerEvent): Promise<void> {
  const cert = await certify(NET, submitter, workers, { task: taskId(n), base })
  await ledger.append(who, 'reward', { cert }, { time: 10, deps: [charge.id] })
}

/** Pay `who` `amount` for task `n` and let it mint the reward on top (10x at genesis, locked). */
async function fund (ledger: Ledger, submitter: Identity, workers: Identity[], who: Identity, amount: bigint, n: number): Promise<void> {
  await reward(ledger, submitter, workers, who, amount, n, await pay(ledger, submitter, who, amount, n))
}

/** A test network where `sub` starts with plenty of real credits. */
function funded (sub: Identity, overrides: Parameters<typeof newLedger>[0] = {}): Ledger {
  return newLedger({ genesis: [{ account: sub.publicKey, amount: credits(1_000_000) }], ...overrides })
}

async function refused (p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof LedgerError && err.code === code)
}

describe('ledger', () => {
  it('grants trial credits once, with proof of work, and keeps them non-transferable', async () => {
    const [a, b] = await identities(2) as [Identity, Identity]
    const ledger = newLedger()
    await claimTrial(ledger, a)
    assert.equal(ledger.account(a.publicKey).trial, ledger.config.trialCredits)
    await refused(claimTrial(ledger, a), 'ERR_TRIAL_ALREADY_GRANTED')
    await refused(ledger.append(a, 'transfer', { to: b.publicKey, amount: 1n }), 'ERR_TRIAL_NOT_TRANSFERABLE')
    await refused(ledger.append(a, 'stake', { amount: 1n }), 'ERR_TRIAL_NOT_TRANSFERABLE')
    await refused(ledger.append(a, 'trial', { nonce: new Uint8Array(8) }), 'ERR_TRIAL_ALREADY_GRANTED')
    assert.equal(ledger.totals().conservationGap, 0n)
    assert.equal(ledger.totals().minted, ledger.config.trialCredits)
  })

  it('mints only on a real payment, with a certificate, once staked', async () => {
    const [sub, w1, w2, w3] = await identities(4) as [Identity, Identity, Identity, Identity]
    const ledger = funded(sub, { minStake: 0n })
    const charge = await pay(ledger, sub, w1, credits(200), 1)
    await reward(ledger, sub, [w1, w2], w1, credits(200), 1, charge)
    assert.equal(ledger.account(w1.publicKey).balance, credits(200) + credits(200) * 10n) // paid, plus 10x at genesis
    const strict = funded(sub)
    await refused(fund(strict, sub, [w1, w2], w1, credits(200), 1), 'ERR_INSUFFICIENT_STAKE')
    // reward twice for one task: refused
    await refused(reward(ledger, sub, [w1, w2], w1, credits(200), 1, charge), 'ERR_ALREADY_REWARDED')
    // not a worker of the certificate
    await refused(reward(ledger, sub, [w1, w2], w3, credits(1), 2, await pay(ledger, sub, w3, credits(1), 2)), 'ERR_NOT_A_WORKER')
    // quorum of 2 workers needed
    await refused(reward(ledger, sub, [w1], w1, credits(1), 3, await pay(ledger, sub, w1, credits(1), 3)), 'ERR_BAD_CERTIFICATE')
    // the base may not exceed what the submitter really paid for the task
    await refused(reward(ledger, sub, [w1, w2], w1, credits(6), 4, await pay(ledger, sub, w1, credits(5), 4)), 'ERR_BAD_CERTIFICATE')
    // trial credits pay, but never mint
    await claimTrial(ledger, w3, 20)
    await ledger.append(w3, 'escrow', ledger.escrowBody(w3.publicKey, 'reserve', taskId(5), credits(2)), { time: 20 })
    const trialCharge = await ledger.append(w3, 'escrow', ledger.escrowBody(w3.publicKey, 'charge', taskId(5), credits(2), w1.publicKey), { time: 20 })
    await refused(reward(ledger, w3, [w1, w2], w1, 1n, 5, trialCharge), 'ERR_BAD_CERTIFICATE')
    assert.equal(ledger.totals().conservationGap, 0n)
  })

  it('moves money by transfer, escrow and stake, and conserves it', async () => {
    const [sub, w1, w2, c] = await identities(4) as [Identity, Identity, Identity, Identity]
    const ledger = funded(sub, { minStake: 0n })
    await fund(ledger, sub, [w1, w2], w1, credits(100), 1)
    // the payment is spendable at once; the minted 1000 are locked for rewardLockMs (1000 ms here)
    await refused(ledger.append(w1, 'transfer', { to: c.publicKey, amount: credits(101) }, { time: 500 }), 'ERR_OVERDRAFT')
    await ledger.append(w1, 'transfer', { to: c.publicKey, amount: credits(300) }, { time: 2000 })
    await refused(ledger.append(w1, 'transfer', { to: c.publicKey, amount: credits(801) }, { time: 2000 }), 'ERR_OVERDRAFT')
    // c must acknowledge the credit (append does it) before spending it
    await claimTrial(ledger, c, 2001)
    const task = taskId(99)
    await ledger.append(c, 'escrow', ledger.escrowBody(c.publicKey, 'reserve', task, credits(50)), { time: 2002 })
    const view = ledger.account(c.publicKey)
    assert.equal(view.reserved, credits(50))
    assert.equal(view.trial, 0n) // trial credits are spent first
    assert.equal(view.balance, credits(300) - (credits(50) - ledger.config.trialCredits))
    await ledger.append(c, 'escrow', ledger.escrowBody(c.publicKey, 'charge', task, credits(20), w2.publicKey), { time: 2003 })
    assert.equal(ledger.account(w2.publicKey).trial, ledger.config.trialCredits, 'trial-funded pay stays trial credit')
    assert.equal(ledger.account(w2.publicKey).balance, credits(10))
    await ledger.append(c, 'escrow', ledger.escrowBody(c.publicKey, 'release', task, credits(30)), { time: 2004 })
    await refused(ledger.append(c, 'escrow', ledger.escrowBody(c.publicKey, 'release', task, 1n), { time: 2005 }), 'ERR_NO_ESCROW')
    await refused(ledger.append(c, 'escrow', ledger.escrowBody(c.publicKey, 'reserve', task, 1n), { time: 2005 }), 'ERR_ESCROW_EXISTS')
    assert.equal(ledger.account(c.publicKey).reserved, 0n)
    await ledger.append(c, 'stake', { amount: credits(100) }, { time: 3000 })
    await refused(ledger.append(c, 'unstake', { amount: credits(100) }, { time: 3500 }), 'ERR_STAKE_LOCKED')
    await ledger.append(c, 'unstake', { amount: credits(40) }, { time: 4000 })
    assert.equal(ledger.account(c.publicKey).staked, credits(60))
    await ledger.append(c, 'delegate', { to: w1.publicKey, amount: credits(10) }, { time: 4001 })
    assert.equal(ledger.account(w1.publicKey).effectiveStake, credits(10))
    assert.equal(ledger.totals().conservationGap, 0n)
  })

  it('refuses a forged signature and a broken chain, changing nothing', async () => {
    const [a, b] = await identities(2) as [Identity, Identity]
    const ledger = newLedger()
    await claimTrial(ledger, a)
    const root = ledger.stateRootHex()
    const forged = await signEvent(NET, b, { type: 'heartbeat', author: a.publicKey, seq: 2, prev: ledger.chainState(a.publicKey)?.head ?? null, deps: [], time: 5, body: {} })
    const r1 = await ledger.ingest(forged.bytes)
    assert.equal(r1.rejected[0]?.error.code, 'ERR_BAD_SIGNATURE')
    const wrongNet = await signEvent('other-net', a, { type: 'heartbeat', author: a.publicKey, seq: 2, prev: ledger.chainState(a.publicKey)?.head ?? null, deps: [], time: 5, body: {} })
    const r2 = await ledger.ingest(wrongNet.bytes)
    assert.equal(r2.rejected[0]?.error.code, 'ERR_BAD_SIGNATURE', 'an event from another network never verifies here')
    const badSeq = await signEvent(NET, a, { type: 'heartbeat', author: a.publicKey, seq: 3, prev: ledger.chainState(a.publicKey)?.head ?? null, deps: [], time: 5, body: {} })
    const r3 = await ledger.ingest(badSeq.bytes)
    assert.equal(r3.rejected[0]?.error.code, 'ERR_CHAIN_BROKEN')
    assert.equal(ledger.stateRootHex(), root)
    assert.equal(ledger.size, 1)
  })

  it('voids both sides of an equivocation and slashes the author', async () => {
    const [sub, w1, w2, x, y] = await identities(5) as [Identity, Identity, Identity, Identity, Identity]
    const ledger = funded(sub, { minStake: 0n })
    await fund(ledger, sub, [w1, w2], w1, credits(100), 1)
    await ledger.append(w1, 'stake', { amount: credits(400) }, { time: 2000 })
    const head = ledger.chainState(w1.publicKey)
    const base = { author: w1.publicKey, seq: 3, prev: head?.head ?? null, deps: [], time: 2100 }
    const toX = await signEvent(NET, w1, { ...base, type: 'transfer', body: { to: x.publicKey, amount: credits(600) } })
    const toY = await signEvent(NET, w1, { ...base, type: 'transfer', body: { to: y.publicKey, amount: credits(600) } })
    const other = funded(sub, { minStake: 0n })
    await other.ingest(ledger.exportEvents())
    await ledger.ingest(toX.bytes)
    assert.equal(ledger.account(x.publicKey).balance, credits(600))
    await ledger.ingest(toY.bytes)
    await other.ingest(toY.bytes)
    await other.ingest(toX.bytes)
    for (const l of [ledger, other]) {
      assert.equal(l.account(x.publicKey).balance, 0n)
      assert.equal(l.account(y.publicKey).balance, 0n)
      assert.equal(l.account(w1.publicKey).equivocated, true)
      assert.equal(l.account(w1.publicKey).slashed, slashAmount(credits(400), 'DoubleSpend'))
      assert.equal(l.equivocationProof(w1.publicKey).length, 2)
      assert.equal(l.totals().conservationGap, 0n)
    }
    assert.equal(ledger.stateRootHex(), other.stateRootHex())
    assert.deepEqual(ledger.account(w1.publicKey), other.account(w1.publicKey))
  })

  it('slashes once per offence with a quorum attestation, paying honest co-workers', async () => {
    const [sub, w1, w2, w3] = await identities(4) as [Identity, Identity, Identity, Identity]
    const ledger = funded(sub, { minStake: 0n })
    await fund(ledger, sub, [w3, w1], w3, credits(100), 1)
    const staked = await ledger.append(w3, 'stake', { amount: credits(1000) }, { time: 2000 })
    const evidence = await attest(NET, w3, 'InvalidResult', [w1, w2], taskId(5))
    const cap = slashAmount(credits(1000), 'InvalidResult')
    const benes = [w1.publicKey, w2.publicKey].sort(compare)
    await refused(ledger.append(sub, 'slash', { offender: w3.publicKey, reason: 'InvalidResult', amount: cap + 1n, evidence, beneficiaries: benes }, { deps: [staked.id], time: 2001 }), 'ERR_BAD_SLASH')
    // without an offender event in deps there is nothing to cap the slash by
    await refused(ledger.append(sub, 'slash', { offender: w3.publicKey, reason: 'InvalidResult', amount: cap, evidence, beneficiaries: benes }, { time: 2001 }), 'ERR_BAD_SLASH')
    await ledger.append(sub, 'slash', { offender: w3.publicKey, reason: 'InvalidResult', amount: cap, evidence, beneficiaries: benes }, { deps: [staked.id], time: 2001 })
    await ledger.append(w1, 'slash', { offender: w3.publicKey, reason: 'InvalidResult', amount: cap, evidence, beneficiaries: benes }, { deps: [staked.id], time: 2002 })
    assert.equal(ledger.account(w3.publicKey).slashed, cap, 'the same offence is slashed once')
    // another reason for the same task is the same offence
    const again = await attest(NET, w3, 'Malicious', [w1, w2], taskId(5))
    await ledger.append(w2, 'slash', { offender: w3.publicKey, reason: 'Malicious', amount: cap, evidence: again, beneficiaries: benes }, { deps: [staked.id], time: 2003 })
    assert.equal(ledger.account(w3.publicKey).slashed, cap)
    assert.equal(ledger.account(w1.publicKey).balance + ledger.account(w2.publicKey).balance, cap)
    assert.equal(ledger.totals().conservationGap, 0n)
  })

  it('refuses slashes over tasks the offender never signed a result for, or by unstaked attesters', async () => {
    const [sub, victim, x, y] = await identities(4) as [Identity, Identity, Identity, Identity]
    const ledger = newLedger({ genesis: [victim, x, y].map(i => ({ account: i.publicKey, amount: credits(300) })) })
    const staked = await ledger.append(victim, 'stake', { amount: credits(200) }, { time: 1 })
    const benes = [x.publicKey, y.publicKey].sort(compare)
    // a claim the victim never signed (x signs it instead)
    const forged = await attest(NET, x, 'Malicious', [x, y], taskId(9))
    const r = await ledger.ingest((await signEvent(NET, sub, { type: 'slash', author: sub.publicKey, seq: 1, prev: null, deps: [staked.id], time: 2, body: { offender: victim.publicKey, reason: 'Malicious', amount: 1n, evidence: forged, beneficiaries: benes } })).bytes)
    assert.equal(r.rejected[0]?.error.code, 'ERR_BAD_SLASH')
    // a real claim, but the attesters x and y hold no stake
    const real = await attest(NET, victim, 'Malicious', [x, y], taskId(9))
    await refused(ledger.append(sub, 'slash', { offender: victim.publicKey, reason: 'Malicious', amount: 1n, evidence: real, beneficiaries: benes }, { deps: [staked.id], time: 2 }), 'ERR_BAD_SLASH')
    assert.equal(ledger.account(victim.publicKey).staked, credits(200))
    assert.equal(ledger.size, 1)
    // once both attesters have staked the minimum, and show it in deps, the slash lands
    const xs = await ledger.append(x, 'stake', { amount: credits(100) }, { time: 3 })
    const ys = await ledger.append(y, 'stake', { amount: credits(100) }, { time: 3 })
    await refused(ledger.append(sub, 'slash', { offender: victim.publicKey, reason: 'Malicious', amount: 1n, evidence: real, beneficiaries: benes }, { deps: [staked.id, xs.id], time: 4 }), 'ERR_BAD_SLASH')
    await ledger.append(sub, 'slash', { offender: victim.publicKey, reason: 'Malicious', amount: credits(200), evidence: real, beneficiaries: benes }, { deps: [staked.id, xs.id, ys.id], time: 4 })
    assert.equal(ledger.account(victim.publicKey).slashed, credits(200))
    assert.equal(ledger.totals().conservationGap, 0n)
  })
})
