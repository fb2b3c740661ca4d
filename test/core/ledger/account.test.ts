import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Account, accountFromJSON, accountToJSON } from '../../../src/core/ledger/account.ts'
import { LedgerError } from '../../../src/core/ledger/errors.ts'
import { credits } from '../../../src/core/economy/index.ts'
import { certify, identities, newLedger, NET, taskId } from '../../helpers/fixtures.ts'
import type { Identity } from '../../../src/core/identity/index.ts'

function clockAt (start: number): { now (): number, advance (ms: number): void } {
  let t = start
  return { now: () => t, advance: (ms) => { t += ms } }
}

describe('Account', () => {
  it('follows seed 002: trial credits, canAfford, reserve, charge, release, credit', async () => {
    const [a, b] = await identities(2) as [Identity, Identity]
    const ledger = newLedger()
    const clock = clockAt(1000)
    const alice = new Account({ ledger, signer: a, clock })
    const bob = new Account({ ledger, signer: b, clock })
    assert.equal(alice.canAfford(1n), false)
    await alice.claimTrial()
    assert.equal(alice.canAfford(ledger.config.trialCredits), true)
    assert.equal(alice.canAfford(ledger.config.trialCredits + 1n), false)
    const task = taskId(1)
    await alice.reserve(task, credits(4))
    await alice.charge(task, b.publicKey, credits(3))
    await alice.release(task, credits(1))
    assert.equal(alice.view().trial, ledger.config.trialCredits - credits(3))
    assert.equal(bob.trial(), 0n, 'not counted before bob acknowledges it')
    assert.equal(bob.canAfford(credits(3)), true, 'incoming credits count for canAfford')
    assert.equal(await bob.credit(), credits(3))
    assert.equal(bob.trial(), credits(3))
    assert.equal(await bob.credit(), 0n, 'a credit counts once')
    await assert.rejects(bob.transfer(a.publicKey, 1n), (e: unknown) => e instanceof LedgerError && e.code === 'ERR_TRIAL_NOT_TRANSFERABLE')
    assert.equal(ledger.totals().conservationGap, 0n)
  })

  it('serialises concurrent appends of one author, so it never equivocates by accident', async () => {
    const [a, b] = await identities(2) as [Identity, Identity]
    const ledger = newLedger({ genesis: [{ account: a.publicKey, amount: 1000n }] })
    const alice = new Account({ ledger, signer: a, clock: clockAt(1) })
    await Promise.all(Array.from({ length: 10 }, async () => await alice.transfer(b.publicKey, 1n)))
    assert.equal(alice.view().equivocated, false)
    assert.equal(ledger.chainState(a.publicKey)?.seq, 10)
    assert.equal(ledger.account(b.publicKey).balance, 10n)
  })

  it('round-trips its JSON and refuses malformed JSON', async () => {
    const [a] = await identities(1) as [Identity]
    const ledger = newLedger()
    const alice = new Account({ ledger, signer: a, clock: clockAt(5) })
    await alice.claimTrial()
    const json = alice.toJSON()
    const back = accountFromJSON(JSON.parse(JSON.stringify(json)))
    assert.deepEqual(back.view, alice.view())
    assert.deepEqual(accountToJSON(a.publicKey, back.view), json)
    for (const bad of [null, 3, { ...json, balance: '1.5' }, { ...json, extra: 1 }, { ...json, trial: 7 }, { ...json, lastSeen: 'x' }]) {
      assert.throws(() => accountFromJSON(bad), (e: unknown) => e instanceof LedgerError && e.code === 'ERR_BAD_ACCOUNT_JSON')
    }
  })
})

describe('ledger reputation view', () => {
  it('derives reputation only from others\' observations, weighted by standing', async () => {
    const ids = await identities(6)
    const [subject, self, ...observers] = ids as [Identity, Identity, ...Identity[]]
    const ledger = newLedger()
    const clock = clockAt(10)
    const fresh = ledger.reputation(subject.publicKey)
    assert.ok(fresh.selectionWeight > 0, 'a newcomer without stake does not weigh zero')
    assert.equal(fresh.confidence, 0)
    await assert.rejects(new Account({ ledger, signer: subject, clock }).observe(subject.publicKey, 'task_verified'), (e: unknown) => e instanceof LedgerError && e.code === 'ERR_SELF_TARGET')
    // one observer repeating itself cannot go far
    const spammer = new Account({ ledger, signer: self, clock })
    for (let i = 0; i < 30; i++) await spammer.observe(subject.publicKey, 'task_verified')
    const spammed = ledger.reputation(subject.publicKey)
    for (const o of observers) {
      const acc = new Account({ ledger, signer: o, clock })
      for (let i = 0; i < 5; i++) await acc.observe(subject.publicKey, 'task_verified')
    }
    const many = ledger.reputation(subject.publicKey)
    assert.ok(many.composite > spammed.composite)
    assert.ok(many.confidence > spammed.confidence)
    assert.equal(many.observers, 5)
    // trusted observers count for more
    const trusted = ledger.reputation(subject.publicKey, { trusted: new Set(observers.map(o => String.fromCharCode(...o.publicKey))) })
    assert.ok(trusted.confidence > many.confidence)
    // certificate-minted worker: reputation stays independent of its money
    const cert = await certify(NET, observers[0] as Identity, [subject, observers[1] as Identity], { task: taskId(3), base: credits(1) })
    await ledger.append(subject, 'reward', { cert }, { time: 50 }).catch(() => undefined)
    assert.equal(ledger.reputation(subject.publicKey).composite, many.composite)
  })
})
