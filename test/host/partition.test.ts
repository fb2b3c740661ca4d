/**
 * A partition, then a heal, on real libp2p (issue 4 §5): two groups of hosts that cannot reach
 * each other (neither knows an address of the other; mDNS off) each write their own events and
 * converge within the group; once one host dials across, heartbeats and anti-entropy bring all
 * five to one state root within a bounded time.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { credits } from '../../src/core/economy/index.ts'
import { Account, Ledger } from '../../src/core/ledger/index.ts'
import { NodeHost } from '../../src/host/node-host.ts'
import { identities, testConfig } from '../helpers/fixtures.ts'

async function until (what: string, ok: () => boolean, timeoutMs = 30_000): Promise<number> {
  const start = Date.now()
  while (Date.now() - start < timeoutMs) {
    if (ok()) return Date.now() - start
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return assert.fail(`timed out waiting for ${what}`)
}

describe('partition and heal', () => {
  const hosts: NodeHost[] = []
  after(async () => { for (const h of hosts) await h.stop() })

  it('converges inside each group, then everywhere once the groups can dial each other', async () => {
    const ids = await identities(5)
    const config = testConfig({ networkId: 'partition-test', stakeLockMs: 3_600_000, genesis: ids.map(id => ({ account: id.publicKey, amount: credits(1000) })) })
    const common = { heartbeatMs: 200, syncIntervalMs: 500, work: false }
    const a0 = await NodeHost.start({ identity: ids[0]!, ledger: Ledger.create({ config }), ...common })
    const b0 = await NodeHost.start({ identity: ids[3]!, ledger: Ledger.create({ config }), ...common })
    hosts.push(a0, b0)
    for (const i of [1, 2]) hosts.push(await NodeHost.start({ identity: ids[i]!, ledger: Ledger.create({ config }), bootstrap: a0.addresses(), ...common }))
    hosts.push(await NodeHost.start({ identity: ids[4]!, ledger: Ledger.create({ config }), bootstrap: b0.addresses(), ...common }))
    const groupA = [hosts[0]!, hosts[2]!, hosts[3]!]
    const groupB = [hosts[1]!, hosts[4]!]
    const rootsOf = (g: NodeHost[]): Set<string> => new Set(g.map(h => h.ledger.stateRootHex()))
    const clock = { now: () => Date.now() }
    // Each side writes its own events: transfers inside the group.
    for (let k = 0; k < 5; k++) {
      await new Account({ ledger: groupA[k % 3]!.ledger, signer: groupA[k % 3]!.node.identity, clock }).transfer(groupA[(k + 1) % 3]!.node.identity.publicKey, credits(1))
      await new Account({ ledger: groupB[k % 2]!.ledger, signer: groupB[k % 2]!.node.identity, clock }).transfer(groupB[(k + 1) % 2]!.node.identity.publicKey, credits(2))
    }
    // (each host also staked at start: 3 + 5 events in A, 2 + 5 in B)
    await until('group A to converge', () => rootsOf(groupA).size === 1 && groupA.every(h => h.ledger.size === 8))
    await until('group B to converge', () => rootsOf(groupB).size === 1 && groupB.every(h => h.ledger.size === 7))
    assert.notEqual([...rootsOf(groupA)][0], [...rootsOf(groupB)][0], 'the groups diverged while apart')
    const bKeys = new Set(groupB.map(h => Buffer.from(h.node.identity.publicKey).toString('hex')))
    assert.ok(groupA.every(h => h.presence.peers().every(p => !bKeys.has(Buffer.from(p.id).toString('hex')))), 'group A never heard from group B')

    // Heal: one link across.
    await a0.transport.dial(b0.addresses()[0]!)
    const healedIn = await until('all five on one state root', () => rootsOf(hosts).size === 1 && hosts.every(h => h.ledger.size === 15))
    assert.ok(healedIn < 30_000)
    for (const h of hosts) assert.equal(h.ledger.totals().conservationGap, 0n)
  })
})
