/**
 * mDNS discovery with real processes (issue 4 §1): `edge-net node` processes started with no
 * bootstrap list find each other over mDNS (service `_edge-net._udp.local`) and become live to
 * each other. Multicast on a shared machine's loopback is unreliable, and would meet whatever
 * else runs there, so the test makes a network namespace of its own (root and iproute2 needed,
 * skipped otherwise): only a loopback interface, up, with multicast on and a route for
 * 224.0.0.0/4. Every packet stays inside it. The control: the same pair with --no-mdns stays
 * alone, so the test fails when discovery does not work.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { askNode, makeNetwork, spawnNode, stopNode } from '../../src/host/demo.ts'
import type { NodeProcess } from '../../src/host/demo.ts'

const NAMESPACE = `edge-net-mdns-${process.pid}`

/** Make the namespace; the reason it cannot be made, or undefined. */
function makeNamespace (): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root on Linux (network namespaces)'
  try {
    execFileSync('ip', ['netns', 'add', NAMESPACE], { stdio: 'pipe' })
  } catch (error) {
    return `cannot make a network namespace: ${(error as Error).message.split('\n')[0] ?? ''}`
  }
  try {
    execFileSync('ip', ['-n', NAMESPACE, 'link', 'set', 'lo', 'up', 'multicast', 'on'], { stdio: 'pipe' })
    execFileSync('ip', ['-n', NAMESPACE, 'route', 'add', '224.0.0.0/4', 'dev', 'lo'], { stdio: 'pipe' })
  } catch (error) {
    dropNamespace()
    return `cannot set up loopback multicast: ${(error as Error).message.split('\n')[0] ?? ''}`
  }
  return undefined
}

function dropNamespace (): void {
  try { execFileSync('ip', ['netns', 'del', NAMESPACE], { stdio: 'pipe' }) } catch {}
}

/** The live-peer counts the nodes report once every node sees `want` peers, or at `ms`. */
async function livePeers (nodes: readonly NodeProcess[], want: number, ms: number): Promise<number[]> {
  const end = Date.now() + ms
  for (;;) {
    const counts = await Promise.all(nodes.map(async n => (await askNode(n)).livePeers))
    if (counts.every(c => c >= want) || Date.now() > end) return counts
    await new Promise(resolve => setTimeout(resolve, 500))
  }
}

const skip = makeNamespace()

describe('mDNS discovery (two node processes in a network namespace of their own)', { skip, timeout: 180_000 }, () => {
  let root = ''
  const running: NodeProcess[] = []
  before(async () => { root = await mkdtemp(join(tmpdir(), 'edge-net-mdns-')) })
  after(async () => {
    await Promise.all(running.map(async n => await stopNode(n)))
    dropNamespace()
    await rm(root, { recursive: true, force: true })
  })

  async function pair (name: string, mdns: boolean): Promise<NodeProcess[]> {
    const { dirs } = await makeNetwork(join(root, name), 2, 0, `mdns-test-${name}`)
    const nodes = dirs.map((dir, i) => spawnNode(dir, i, { mdns, wrap: ['ip', 'netns', 'exec', NAMESPACE] }))
    running.push(...nodes)
    await Promise.all(nodes.map(async n => await n.ready))
    return nodes
  }

  it('without mDNS, two nodes with no bootstrap list stay alone (the control)', async () => {
    const nodes = await pair('off', false)
    assert.deepEqual(await livePeers(nodes, 1, 8000), [0, 0])
    await Promise.all(nodes.map(async n => await stopNode(n)))
  })

  it('with mDNS, they find each other and each sees the other live', async () => {
    const nodes = await pair('on', true)
    assert.deepEqual(await livePeers(nodes, 1, 60_000), [1, 1])
  })
})
