/**
 * `edge-net submit` against three running `edge-net node` processes: the task is verified and
 * settled and its output printed; a data directory a running node uses is refused.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeEncryptionOutput, encodeEncryptionPayload } from '../../src/core/kernels/index.ts'
import { makeNetwork, spawnNode, stopNode } from '../../src/host/demo.ts'
import type { NodeProcess } from '../../src/host/demo.ts'
import { errorCode, runCli } from './helpers.ts'

describe('edge-net submit', () => {
  const cleanup: Array<() => Promise<unknown>> = []
  after(async () => { for (const c of cleanup.reverse()) await c().catch(() => {}) })

  it('runs one task on the network and prints its verified output; refuses a directory a node uses', async () => {
    const root = await mkdtemp(join(tmpdir(), 'edge-net-submit-'))
    cleanup.push(async () => { await rm(root, { recursive: true, force: true }) })
    const { dirs } = await makeNetwork(root, 4, 0, 'submit-test')
    const nodes: NodeProcess[] = [spawnNode(dirs[0]!, 0)]
    const { addresses } = await nodes[0]!.ready
    for (let i = 1; i < 3; i++) nodes.push(spawnNode(dirs[i]!, i, { bootstrap: addresses }))
    await Promise.all(nodes.map(async n => await n.ready))
    cleanup.push(async () => { await Promise.all(nodes.map(async n => await stopNode(n))) })

    const payloadFile = join(root, 'task.cbor')
    await writeFile(payloadFile, encodeEncryptionPayload({ op: 'encrypt', key: new Uint8Array(32).fill(3), iv: new Uint8Array(12).fill(4), data: new TextEncoder().encode('from the command line') }))
    // A generous lifetime: under a loaded CI machine a worker missed once and its replacement had
    // to be found within the default 30 s (the commit phase is 70 % of it).
    const run = await runCli(['submit', '--data', dirs[3]!, '--type', 'encryption', '--payload', payloadFile, '--connect', addresses[0]!, '--timeout', '90000', '--json'])
    assert.equal(run.code, 0, run.stderr)
    const out = JSON.parse(run.stdout) as { verified: boolean, workers: string[], cost: string, output: string }
    assert.equal(out.verified, true)
    assert.equal(out.workers.length, 3)
    assert.ok(BigInt(out.cost) > 0n)
    assert.equal(decodeEncryptionOutput(new Uint8Array(Buffer.from(out.output, 'base64'))).data.length, 'from the command line'.length + 16)

    const busy = await runCli(['submit', '--data', dirs[0]!, '--type', 'encryption', '--payload', payloadFile, '--connect', addresses[0]!])
    assert.equal(busy.code, 1)
    assert.equal(errorCode(busy), 'ERR_NODE_RUNNING')
  })
})
