/**
 * A hostile peer against a NodeHost on real libp2p (issue 4 §5): it sends garbage, forged and
 * replayed ledger events, forged heartbeats and malformed task messages. Each offence is counted
 * against it; it ends graylisted and banned (disconnected and refused), and nothing it sent is
 * applied: the host's state root is the one its honest events give.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encodeCanonical } from '../../src/core/codec/index.ts'
import { credits } from '../../src/core/economy/index.ts'
import type { Identity } from '../../src/core/identity/index.ts'
import { Account, Ledger } from '../../src/core/ledger/index.ts'
import { Libp2pTransport } from '../../src/adapters/libp2p/index.ts'
import { NodeHost } from '../../src/host/node-host.ts'
import { TASK_DIRECT_TOPIC, TASK_TOPIC } from '../../src/runtime/context.ts'
import { LEDGER_SYNC_TOPIC, LEDGER_TOPIC } from '../../src/runtime/ledger-sync.ts'
import { HEARTBEAT_TOPIC } from '../../src/runtime/presence.ts'
import { identities, testConfig } from '../helpers/fixtures.ts'

describe('a hostile peer', () => {
  const stops: Array<() => Promise<unknown>> = []
  after(async () => { for (const s of stops.reverse()) await s().catch(() => {}) })

  it('is penalized for every garbage, forged or malformed message, then banned, and nothing it sent is applied', async () => {
    const [hostId, attackerId, victim] = await identities(3) as [Identity, Identity, Identity]
    const config = testConfig({ networkId: 'hostile-test', genesis: [hostId, attackerId, victim].map(id => ({ account: id.publicKey, amount: credits(1000) })) })
    const host = await NodeHost.start({ identity: hostId, ledger: Ledger.create({ config }), heartbeatMs: 200, work: false, dht: false })
    stops.push(async () => { await host.stop() })
    const attacker = await Libp2pTransport.create({ identity: attackerId, bootstrap: host.addresses(), mdns: false, dht: false, topics: [TASK_TOPIC, LEDGER_TOPIC, HEARTBEAT_TOPIC], directTopics: [TASK_DIRECT_TOPIC, LEDGER_SYNC_TOPIC] })
    stops.push(async () => { await attacker.close() })
    for (let i = 0; i < 100 && !host.transport.peers().some(p => Buffer.from(p).equals(Buffer.from(attackerId.publicKey))); i++) await new Promise(resolve => setTimeout(resolve, 50))
    await new Promise(resolve => setTimeout(resolve, 1500)) // gossipsub meshes form on its heartbeat

    // What honest events give: a scratch replica with the host's own events only.
    const rootBefore = host.ledger.stateRootHex()
    const sizeBefore = host.ledger.size

    // A valid event of the victim, which the attacker alters after signing (a forgery), and replays.
    const scratch = Ledger.create({ config })
    const genuine = await new Account({ ledger: scratch, signer: victim, clock: { now: () => Date.now() } }).transfer(attackerId.publicKey, credits(5))
    const forged = genuine.bytes.slice()
    forged[forged.length - 70] = (forged[forged.length - 70] as number) ^ 1 // inside the body, before the signature
    const messages: Array<[string, 'publish' | 'send', Uint8Array]> = [
      [LEDGER_TOPIC, 'publish', new Uint8Array([0xff, 0x00, 0x13])],
      [LEDGER_TOPIC, 'publish', encodeCanonical([1, 0, [forged]])],
      [HEARTBEAT_TOPIC, 'publish', new Uint8Array(64).fill(7)],
      [HEARTBEAT_TOPIC, 'publish', encodeCanonical([1, victim.publicKey, Date.now(), { tasks: 1, paused: false, events: 0, root: new Uint8Array(32), every: 1000 }, new Uint8Array(64)])],
      [TASK_DIRECT_TOPIC, 'send', new Uint8Array([1, 2, 3, 4])],
      [TASK_TOPIC, 'publish', encodeCanonical(['not an envelope'])]
    ]
    let banned = false
    for (let round = 0; round < 10 && !banned; round++) {
      for (const [topic, how, data] of messages) {
        try {
          if (how === 'publish') attacker.publish(topic, data)
          else attacker.send(hostId.publicKey, topic, data)
        } catch { /* the host may already refuse us */ }
      }
      await new Promise(resolve => setTimeout(resolve, 300))
      banned = host.transport.standing(attackerId.publicKey).banned
    }
    const standing = host.transport.standing(attackerId.publicKey)
    assert.ok(standing.penalties > 0, `penalties counted: ${JSON.stringify(standing)}`)
    assert.equal(standing.banned, true, `banned: ${JSON.stringify(standing)}`)
    for (let i = 0; i < 100 && host.transport.peers().some(p => Buffer.from(p).equals(Buffer.from(attackerId.publicKey))); i++) await new Promise(resolve => setTimeout(resolve, 50))
    assert.ok(!host.transport.peers().some(p => Buffer.from(p).equals(Buffer.from(attackerId.publicKey))), 'disconnected')
    // Nothing it sent was applied: the host holds exactly its own events.
    assert.equal(host.ledger.size, sizeBefore)
    assert.equal(host.ledger.stateRootHex(), rootBefore)
    assert.equal(host.presence.peers().length, 0, 'no forged heartbeat made anyone live')
  })
})
