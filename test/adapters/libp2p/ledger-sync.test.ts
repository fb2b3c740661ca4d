/**
 * LedgerSync over real libp2p nodes on loopback TCP (gossipsub for LEDGER_TOPIC, the direct
 * stream protocol for LEDGER_SYNC_TOPIC): events appended on one node reach the others' ledgers by
 * gossip, events never gossiped arrive by anti-entropy, and all state roots end equal.
 * Convergence is polled a bounded number of times, not timed.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { credits } from '../../../src/core/economy/index.ts'
import { Identity } from '../../../src/core/identity/index.ts'
import { Account, Ledger } from '../../../src/core/ledger/index.ts'
import { Libp2pTransport } from '../../../src/adapters/libp2p/index.ts'
import { LEDGER_TOPIC, LedgerSync } from '../../../src/runtime/ledger-sync.ts'
import { testConfig } from '../../helpers/fixtures.ts'

const READY_MS = 10_000
const T = { timeout: 60_000 }
const clock = { now: () => Date.now() }

interface Node { identity: Identity, ledger: Ledger, transport: Libp2pTransport, sync: LedgerSync, account: Account }

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function converge (nodes: readonly Node[], expected: number, maxPolls: number): Promise<number> {
  for (let poll = 0; poll < maxPolls; poll++) {
    const roots = new Set(nodes.map(n => n.ledger.stateRootHex()))
    if (roots.size === 1 && nodes.every(n => n.ledger.size === expected && n.ledger.pendingCount === 0)) return poll
    await sleep(50)
  }
  assert.fail(`no convergence after ${maxPolls} polls: sizes ${nodes.map(n => n.ledger.size).join(' ')}, expected ${expected}`)
}

describe('LedgerSync over Libp2pTransport', () => {
  const nodes: Node[] = []
  after(async () => {
    for (const n of nodes) await n.sync.close()
    await Promise.all(nodes.map(async n => { await n.transport.close() }))
  })

  it('replicates events between 3 nodes on loopback: gossip, then anti-entropy', T, async () => {
    const ids = await Promise.all([0, 1, 2].map(async () => await Identity.generate()))
    const config = testConfig({ genesis: ids.map(i => ({ account: i.publicKey, amount: credits(1000) })) })
    for (const identity of ids) {
      const ledger = Ledger.create({ config })
      const transport = await Libp2pTransport.create({ identity, topics: [LEDGER_TOPIC], mdns: false })
      const node: Node = { identity, ledger, transport, sync: new LedgerSync({ ledger, transport, clock, sessionTimeoutMs: 2000 }), account: new Account({ ledger, signer: identity, clock }) }
      const sync = node.sync
      transport.onMessage((from, topic, data) => { if (!sync.handle(from, topic, data)) assert.fail(`unexpected topic ${topic}`) })
      nodes.push(node)
    }
    const [a, b, c] = nodes as [Node, Node, Node]
    await a.transport.dial(b.transport.addresses()[0] as string)
    await a.transport.dial(c.transport.addresses()[0] as string)
    await b.transport.dial(c.transport.addresses()[0] as string)
    await Promise.all(nodes.map(async n => {
      await n.transport.ready(nodes.filter(m => m !== n).map(m => m.identity.publicKey), { signal: AbortSignal.timeout(READY_MS) })
    }))

    // Gossip: 10 transfers appended on a reach b and c.
    for (let i = 0; i < 10; i++) a.sync.announce(await a.account.transfer(b.identity.publicKey, credits(1)))
    const polls = await converge(nodes, 10, 200)
    console.log(`libp2p gossip: 3 ledgers equal after ${polls} polls of 50 ms`)

    // Anti-entropy: c appends without gossip; a's periodic rounds (its peers are b and c, heard
    // from or added) fetch the events, and b gets them from a or c.
    for (let i = 0; i < 5; i++) await c.account.transfer(a.identity.publicKey, credits(2))
    for (const n of nodes) for (const m of nodes) n.sync.addPeer(m.identity.publicKey)
    for (const n of nodes) n.sync.start({ intervalMs: 50 })
    await converge(nodes, 15, 200)
    for (const n of nodes) for (const m of nodes) assert.equal(n.sync.peerScore(m.identity.publicKey), 0, 'honest peers are never counted')
    assert.ok(nodes.some(n => n.sync.stats.sessionsCompleted > 0))
  })
})
