/**
 * Real processes, one killed with SIGKILL mid-workload (issue 4 §5): its tasks are reassigned and
 * every task is verified, every escrow is closed exactly once, and the restarted node (same data
 * directory) catches up on the same state root without losing or re-signing anything it had
 * written (a lost event would make it sign a second event at the same seq: an equivocation).
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toKey } from '../../src/core/bytes.ts'
import type { Identity } from '../../src/core/identity/index.ts'
import { Ledger } from '../../src/core/ledger/index.ts'
import type { LedgerEvent } from '../../src/core/ledger/index.ts'
import { askNode, makeNetwork, spawnNode, stopNode } from '../../src/host/demo.ts'
import type { NodeProcess } from '../../src/host/demo.ts'
import { NodeHost } from '../../src/host/node-host.ts'
import { mixedWorkload } from '../../src/runtime/workload.ts'
import { seedFromEnv } from '../helpers/fixtures.ts'

async function until (what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await ok()) return
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  assert.fail(`timed out waiting for ${what}`)
}

describe('a node killed with SIGKILL mid-workload', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  after(async () => { for (const c of cleanup.reverse()) await c().catch(() => {}) })

  it('has its tasks reassigned, every escrow closed once, and catches up after a restart', async () => {
    const seed = seedFromEnv() % 1000
    const root = await mkdtemp(join(tmpdir(), 'edge-net-kill-'))
    cleanup.push(async () => { await rm(root, { recursive: true, force: true }) })
    const { dirs, ids, network } = await makeNetwork(root, 4, 1, `kill-${seed}`)
    const nodes: NodeProcess[] = [spawnNode(dirs[0]!, 0)]
    const { addresses } = await nodes[0]!.ready
    for (let i = 1; i < 4; i++) nodes.push(spawnNode(dirs[i]!, i, { bootstrap: addresses }))
    await Promise.all(nodes.map(async n => await n.ready))
    cleanup.push(async () => { await Promise.all(nodes.map(async n => await stopNode(n))) })

    const ledger = Ledger.create({ config: { networkId: network.networkId, genesis: network.genesis } })
    const host = await NodeHost.start({ identity: ids[4] as Identity, ledger, bootstrap: addresses, work: false, heartbeatMs: 500 })
    cleanup.push(async () => { await host.stop() })
    await until('every node live and staked', () => host.presence.live().length === 4 && ids.slice(0, 4).every(id => ledger.account(id.publicKey).staked > 0n))

    const workload = mixedWorkload({ seed, count: 30 })
    let next = 0
    let done = 0
    let verified = 0
    let before: Awaited<ReturnType<typeof askNode>> | undefined
    const victim = nodes[2]!
    const lane = async (): Promise<void> => {
      while (next < workload.length) {
        const task = workload[next++]!
        const r = await host.node.submit({ type: task.type, payload: task.payload, options: { timeout: 30_000 } })
        if (r.verified) verified++
        if (++done === 10) {
          before = await askNode(victim)
          victim.proc.kill('SIGKILL')
        }
      }
    }
    await Promise.all(Array.from({ length: 6 }, lane))
    assert.equal(await victim.exited, null, 'killed by a signal')
    assert.equal(verified, 30, `seed ${seed}: every task verified, the killed node's ones reassigned`)

    // Every escrow of the submitter is closed, each by exactly one settle item.
    const me = (ids[4] as Identity).publicKey
    assert.equal(ledger.chainState(me)?.escrows.size, 0, 'no escrow left open')
    const settledTasks = ledger.history(me).filter(e => e.type === 'settle').flatMap(e => (e as LedgerEvent<'settle'>).body.items.map(i => toKey(i.task)))
    assert.equal(settledTasks.length, 30)
    assert.equal(new Set(settledTasks).size, 30, 'no task settled twice')

    // Restart the killed node on its data directory: it catches up and nothing it wrote is lost.
    const restarted = spawnNode(dirs[2]!, 2, { bootstrap: addresses })
    nodes[2] = restarted
    await restarted.ready
    await until('every replica on one state root', async () => {
      const roots = new Set([...(await Promise.all(nodes.map(async n => (await askNode(n)).stateRoot))), ledger.stateRootHex()])
      return roots.size === 1
    })
    const after = await askNode(restarted)
    assert.ok(after.events >= (before?.events ?? 0), 'the restarted replica holds at least what it held before the kill')
    for (const id of ids.slice(0, 4)) assert.equal(ledger.account(id.publicKey).equivocated, false, 'nobody signed two events at one seq')
    assert.equal(ledger.totals().conservationGap, 0n)
  })
})
