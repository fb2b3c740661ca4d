/**
 * edge-net quick start: a small network's ledger, end to end, on this machine.
 *
 *   npm start            (or: node examples/quickstart.ts [data-dir])
 *
 * Alice submits a task: she claims her trial credits (a little proof of work), escrows the task's
 * price (trial credits are spent first) and pays Carol and Bob from the escrow. Bob and Carol
 * computed it; the submitter and both workers sign a settlement certificate, and Bob, who staked,
 * mints his contribution reward on top of the real credits he was paid (trial credits pay but never
 * mint). Every step is a signed event in a SQLite-backed ledger; a second replica that receives the
 * events reaches the same state root.
 */
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  Account, Identity, Ledger, SqliteEventStore, certificateStatement, credits, formatCredits, sortSignatures
} from 'edge-net'
import type { Certificate } from 'edge-net'

const dataDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'edge-net-quickstart-'))
mkdirSync(dataDir, { recursive: true })
const clock = { now: () => Date.now() }

const [alice, bob, carol] = await Promise.all([Identity.generate(), Identity.generate(), Identity.generate()])
const config = {
  networkId: 'quickstart',
  trialDifficulty: 8,
  // A new network funds its first members at genesis: minting needs stake and a real payment.
  genesis: [{ account: bob.publicKey, amount: credits(150) }, { account: alice.publicKey, amount: credits(50) }]
}
const ledger = await Ledger.open({ config, store: SqliteEventStore.open(join(dataDir, 'events.db')) })
const [a, b, c] = [alice, bob, carol].map(signer => new Account({ ledger, signer, clock })) as [Account, Account, Account]

await a.claimTrial()
console.log(`alice claimed ${formatCredits(a.view().trial)} trial credits`)

await b.stake(credits(100))
console.log(`bob staked ${formatCredits(b.view().staked)} credits`)

const task = crypto.getRandomValues(new Uint8Array(32))
await a.reserve(task, credits(12))
await a.charge(task, carol.publicKey, credits(10))
const paid = await a.charge(task, bob.publicKey, credits(2))
console.log('alice escrowed 12 credits and paid carol 10 (her trial credits) and bob 2 (real credits)')

// The submitter and the agreeing workers sign the same task id and result digest.
const unsigned = {
  task,
  result: new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('the result'))),
  base: credits(2),
  hours: 0,
  workers: [bob.publicKey, carol.publicKey].sort((x, y) => Buffer.compare(x, y)),
  submitter: alice.publicKey
}
const statement = certificateStatement(config.networkId, unsigned)
const sigs = await Promise.all([alice, bob, carol].map(async s => [s.publicKey, await s.sign(statement)] as const))
const cert: Certificate = { ...unsigned, sigs: sortSignatures(sigs as never) }
await ledger.append(bob, 'reward', { cert }, { time: clock.now(), deps: [paid.id] })
console.log(`bob minted ${formatCredits(credits(2) * 10n)} credits (2 credits paid x the genesis multiplier 10)`)

for (const [name, acc] of [['alice', a], ['bob', b], ['carol', c]] as const) {
  const v = acc.view()
  console.log(`${name.padEnd(5)} balance ${formatCredits(v.balance).padStart(8)}  trial ${formatCredits(v.trial).padStart(6)}  staked ${formatCredits(v.staked).padStart(6)}`)
}
const totals = ledger.totals()
console.log(`minted ${formatCredits(totals.minted)}, conservation gap ${totals.conservationGap}`)

// A second replica that receives the events holds the same set: the same state root.
const replica = Ledger.create({ config })
await replica.ingest(ledger.exportEvents())
console.log(`state root ${ledger.stateRootHex().slice(0, 16)}… replica ${replica.stateRootHex() === ledger.stateRootHex() ? 'agrees' : 'DIFFERS'}`)
await ledger.close()
console.log(`events stored in ${join(dataDir, 'events.db')}`)
