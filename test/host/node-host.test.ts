/**
 * NodeHost on real libp2p (loopback TCP, Noise, Yamux, gossipsub), three hosts in one process,
 * each with its own ledger replica: the hosts find each other through the bootstrap list, become
 * live through heartbeats, replicate the ledger by gossip and sync, run a task end to end, and end
 * with equal state roots.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/core/bytes.ts'
import { credits } from '../../src/core/economy/index.ts'
import type { Identity } from '../../src/core/identity/index.ts'
import { decodeEncryptionOutput, encodeEncryptionPayload } from '../../src/core/kernels/index.ts'
import { Ledger } from '../../src/core/ledger/index.ts'
import { NodeHost } from '../../src/host/node-host.ts'
import { identities, testConfig } from '../helpers/fixtures.ts'

async function until (what: string, ok: () => boolean, rounds = 200, stepMs = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (ok()) return
    await new Promise(resolve => setTimeout(resolve, stepMs))
  }
  assert.fail(`timed out waiting for ${what}`)
}

describe('NodeHost over libp2p', () => {
  let hosts: NodeHost[] = []
  let ids: Identity[] = []
  before(async () => {
    ids = await identities(3)
    const config = testConfig({ networkId: 'node-host-test', stakeLockMs: 3_600_000, genesis: ids.map(id => ({ account: id.publicKey, amount: credits(1000) })) })
    const common = { heartbeatMs: 200, syncIntervalMs: 500, stake: credits(100) }
    const first = await NodeHost.start({ identity: ids[0]!, ledger: Ledger.create({ config }), ...common })
    hosts = [first]
    for (const id of ids.slice(1)) hosts.push(await NodeHost.start({ identity: id, ledger: Ledger.create({ config }), bootstrap: first.addresses(), ...common }))
  })
  after(async () => { for (const h of hosts) await h.stop() })

  it('become live to each other through heartbeats and replicate every stake event', async () => {
    await until('every host to see the two others live', () => hosts.every(h => h.presence.live().length === 2))
    await until('every replica to hold the three stake events', () => hosts.every(h => h.ledger.size >= 3))
    await until('equal state roots', () => new Set(hosts.map(h => toHex(h.ledger.stateRoot()))).size === 1)
    for (const h of hosts) assert.ok(h.ledger.account(h.node.identity.publicKey).staked >= credits(100))
  })

  it('run a task end to end and converge on one state root', async () => {
    const [a] = hosts as [NodeHost]
    const payload = encodeEncryptionPayload({ op: 'encrypt', key: new Uint8Array(32).fill(1), iv: new Uint8Array(12).fill(2), data: new TextEncoder().encode('over libp2p') })
    const result = await a.node.submit({ type: 'encryption', payload, options: { redundancy: 2, timeout: 30_000 } }) // generous: a fresh kernel thread loads its modules first
    assert.equal(result.verified, true)
    assert.equal(result.workers.length, 2)
    assert.equal(decodeEncryptionOutput(result.output).data.length, 'over libp2p'.length + 16)
    // The settle event, observations and the workers' rewards reach every replica.
    await until('both workers to mint their reward on every replica', () => hosts.every(h => h.ledger.totals().minted > credits(3000)))
    await until('equal state roots', () => new Set(hosts.map(h => toHex(h.ledger.stateRoot()))).size === 1)
    for (const h of hosts) assert.equal(h.ledger.totals().conservationGap, 0n)
    await until('every host\'s live peers to beat with its own root', () => hosts.every(h => h.converged()))
  })
})
