/**
 * edge-net quick start: a small network's ledger, end to end, on this machine.
 *
 *   npm start            (or: node examples/quickstart.ts [data-dir])
 *
 * Alice is new: she claims her trial credits (a little proof of work) and pays for a task from
 * escrow. Bob and Carol compute it; the submitter and both workers sign a settlement certificate,
 * and Bob, who staked genesis credits, mints his contribution reward with it. Every step is a
 * signed event in a SQLite-backed ledger; a second replica that receives the events reaches the
 * same state root.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  Account, Identity, Ledger, SqliteEventStore, certificateStatement, credits, formatCredits, sortSignatures
} from 'edge-net'
import type { Certificate } from 'edge-net'

const dataDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'edge-net-quickstart-'))
const clock = { now: () => Date.now() }

const [alice, bob, carol] = await Promise.all([Identity.generate(), Identity.generate(), Identity.generate()])
const config = {
  networkId: 'quickstart',
  trialDifficulty: 8,
  // A new network funds its first stakers at genesis: minting needs stake, stake needs credits.
  genesis: [{ account: bob.publicKey, amount: credits(150) }]
}
const ledger = await Ledger.open({ config, store: SqliteEventStore.open(join(dataDir, 'events.db')) })
const [a, b, c] = [alice, bob, carol].map(signer => new Account({ ledger, signer, clock })) as [Account, Account, Account]

await a.claimTrial()
console.log(`alice claimed ${formatCredits(a.view().trial)} trial credits`)

await b.stake(credits(100))
console.log(`bob staked ${formatCredits(b.view().staked)} credits`)

const task = crypto.getRandomValues(new Uint8Array(32))
await a.reserve(task, credits(2))
await a.charge(task, bob.publicKey, credits(1))
await a.charge(task, carol.publicKey, credits(1))
console.log('alice paid bob and carol 1 credit each from escrow')

// The submitter and the agreeing workers sign the same task id and result digest.
const unsigned = {
  task,
  result: new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('the result'))),
  base: credits(1),
  hours: 0,
  workers: [bob.publicKey, carol.publicKey].sort((x, y) => Buffer.compare(x, y)),
  submitter: alice.publicKey
}
const statement = certificateStatement(config.networkId, unsigned)
const sigs = await Promise.all([alice, bob, carol].map(async s => [s.publicKey, await s.sign(statement)] as const))
const cert: Certificate = { ...unsigned, sigs: sortSignatures(sigs as never) }
await ledger.append(bob, 'reward', { cert }, { time: clock.now() })
console.log(`bob minted ${formatCredits(credits(1) * 10n)} credits (1 credit x the genesis multiplier 10)`)

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
