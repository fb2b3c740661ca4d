/**
 * EdgeNode's library API (issue 3 §5, §7): submit → { output, cost, workers, verified }, typed
 * events, stats, pause/resume/stop, and bad input refused with a typed error and nothing reserved.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { credits, priceTask } from '../../src/core/economy/index.ts'
import { Identity } from '../../src/core/identity/index.ts'
import { KernelError, encodeEncryptionPayload, decodeEncryptionOutput, KERNELS } from '../../src/core/kernels/index.ts'
import { Account, Ledger } from '../../src/core/ledger/index.ts'
import { TaskError } from '../../src/core/tasks/index.ts'
import { EdgeNode } from '../../src/runtime/edge-node.ts'
import { MemoryNetwork } from '../../src/runtime/memory-network.ts'
import { WorkerThreadsPool } from '../../src/adapters/workers/index.ts'
import type { EdgeNodeInit } from '../../src/runtime/edge-node.ts'

const NET = 'edge-node-test'
const key = crypto.getRandomValues(new Uint8Array(32))
const payloadOf = (data: Uint8Array): Uint8Array => encodeEncryptionPayload({ op: 'encrypt', key, iv: crypto.getRandomValues(new Uint8Array(12)), data })
const code = (c: string) => (err: unknown): boolean => (err instanceof TaskError || err instanceof KernelError) && err.code === c

interface Net { ledger: Ledger, submitter: EdgeNode, workers: EdgeNode[], poor: EdgeNode, network: MemoryNetwork }

async function network (workerCount: number, extra: Partial<EdgeNodeInit> = {}, authenticated = true, stakeLockMs?: number): Promise<Net> {
  const ids = await Promise.all(Array.from({ length: workerCount + 2 }, async () => await Identity.generate()))
  const [subId, poorId, ...workerIds] = ids as [Identity, Identity, ...Identity[]]
  const ledger = Ledger.create({ config: { networkId: NET, ...(stakeLockMs === undefined ? {} : { stakeLockMs }), genesis: [subId, ...workerIds].map(id => ({ account: id.publicKey, amount: credits(10_000) })) } })
  const clock = { now: () => Date.now() }
  for (const id of workerIds) await new Account({ ledger, signer: id, clock }).stake(credits(200))
  await new Account({ ledger, signer: subId, clock }).stake(credits(200))
  const net = new MemoryNetwork({ seed: 9, authenticated })
  const common = { ledger, submitter: { spotCheckRate: 0, roundMs: 300 }, ...extra }
  const submitter = await EdgeNode.create({ ...common, identity: subId, transport: net.join(subId.publicKey), worker: { enabled: false } })
  const poor = await EdgeNode.create({ ...common, identity: poorId, transport: net.join(poorId.publicKey), worker: { enabled: false } })
  const workers = await Promise.all(workerIds.map(async id => await EdgeNode.create({ ...common, identity: id, transport: net.join(id.publicKey) })))
  return { ledger, submitter, workers, poor, network: net }
}

async function stopAll (n: Net): Promise<void> {
  for (const node of [n.submitter, n.poor, ...n.workers]) await node.stop()
}

describe('EdgeNode', () => {
  let n: Net
  before(async () => { n = await network(3) })
  after(async () => { await stopAll(n) })

  it('submits a task and returns the verified output, its cost and its workers', async () => {
    const data = new Uint8Array([1, 2, 3, 4])
    const payload = payloadOf(data)
    const settled: unknown[] = []
    const earned: bigint[] = []
    n.submitter.on('task:settled', d => settled.push(d))
    for (const w of n.workers) w.on('credit:earned', ({ amount, kind }) => { if (kind === 'reward') earned.push(amount) })
    const before = n.ledger.account(n.submitter.publicKey).balance
    const result = await n.submitter.submit({ type: 'encryption', payload })
    assert.equal(result.verified, true)
    assert.deepEqual(result.output, await (KERNELS.encryption as NonNullable<typeof KERNELS.encryption>).run(payload))
    assert.equal(decodeEncryptionOutput(result.output).data.length, data.length + 16)
    const price = priceTask({ type: 'encryption', size: data.length, priority: 'normal' })
    assert.equal(result.cost, price * 3n)
    assert.equal(result.workers.length, 3)
    assert.equal(settled.length, 1)
    assert.equal(n.ledger.account(n.submitter.publicKey).balance, before - result.cost, 'the submitter paid exactly the cost; the rest of the escrow came back')
    // The certificate round lets every agreeing worker mint its reward.
    for (let i = 0; i < 100 && earned.length < 3; i++) await new Promise(resolve => setTimeout(resolve, 20))
    assert.equal(earned.length, 3, 'each worker minted a reward')
    assert.ok(earned.every(a => a > 0n))
    const stats = n.workers[0]?.stats()
    assert.ok(stats !== undefined && stats.tasksCompleted >= 1 && stats.invalid === 0)
    assert.equal(n.submitter.stats().pending, 0)
    assert.equal(n.ledger.totals().conservationGap, 0n)
  })

  it('submitBatch settles each task on its own', async () => {
    const results = await n.submitter.submitBatch([
      { type: 'encryption', payload: payloadOf(new Uint8Array([9])) },
      { type: 'encryption', payload: new Uint8Array([0xff]) }
    ])
    assert.equal(results[0]?.status, 'fulfilled')
    assert.equal(results[1]?.status, 'rejected')
  })

  it('refuses bad input with a typed error and reserves nothing', async () => {
    // Earlier tasks' settlements may still append observations and rewards: watch money, not event counts.
    const before = [n.submitter, n.poor].map(node => n.ledger.account(node.publicKey))
    const escrows = n.ledger.chainState(n.submitter.publicKey)?.escrows.size
    await assert.rejects(n.submitter.submit({ type: 'mining' as never, payload: new Uint8Array(1) }), code('ERR_KERNEL_UNKNOWN_TYPE'))
    await assert.rejects(n.submitter.submit({ type: 'encryption', payload: new Uint8Array([1, 2, 3]) }), code('ERR_KERNEL_BAD_PAYLOAD'))
    await assert.rejects(n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array(10)), options: { maxCredits: 0 } }), code('ERR_TASK_PRICE_BELOW_TABLE'))
    await assert.rejects(n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array(10)), options: { redundancy: 0 } }), code('ERR_TASK_BAD_ENVELOPE'))
    await assert.rejects(n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array(10)), options: { timeout: -5 } }), code('ERR_TASK_BAD_OPTIONS'))
    await assert.rejects(n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array(10)), options: { priority: 'urgent' as never } }), code('ERR_TASK_BAD_OPTIONS'))
    await assert.rejects(n.poor.submit({ type: 'encryption', payload: payloadOf(new Uint8Array(10)) }), code('ERR_TASK_INSUFFICIENT_CREDITS'))
    const after = [n.submitter, n.poor].map(node => n.ledger.account(node.publicKey))
    assert.deepEqual(after.map(a => [a.balance, a.reserved]), before.map(a => [a.balance, a.reserved]), 'nothing reserved, nothing spent')
    assert.equal(n.ledger.chainState(n.submitter.publicKey)?.escrows.size, escrows, 'no escrow opened')
  })
})

describe('EdgeNode lifecycle', () => {
  it('paused workers claim nothing: the task expires and its escrow comes back in full', async () => {
    const n = await network(3)
    for (const w of n.workers) w.pause()
    assert.ok(n.workers.every(w => w.paused))
    const before = n.ledger.account(n.submitter.publicKey)
    const failed: string[] = []
    n.submitter.on('task:failed', ({ code }) => failed.push(code))
    await assert.rejects(n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array(8)), options: { timeout: 400 } }), code('ERR_TASK_EXPIRED'))
    assert.deepEqual(failed, ['ERR_TASK_EXPIRED'])
    const after = n.ledger.account(n.submitter.publicKey)
    assert.equal(after.balance, before.balance)
    assert.equal(after.reserved, 0n)
    assert.equal(n.submitter.stats().timedOut, 1)
    for (const w of n.workers) w.resume()
    const ok = await n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array(8)) })
    assert.equal(ok.verified, true)
    await stopAll(n)
    await assert.rejects(n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array(8)) }), code('ERR_TASK_STOPPED'))
  })

  it('an idle worker claims every task: refused claims slow a busy worker, not an idle one', async () => {
    // 5 workers, 3 replicas: each task refuses (or releases) 2 claims, which backs the refused
    // workers' claim rates off; tasks one at a time still get a claim from every idle worker, so
    // none waits out its claim window short of claims.
    const n = await network(5)
    const claims = new Map<string, number>()
    for (const w of n.workers) w.on('task:claimed', ({ task }) => { const k = task.join(','); claims.set(k, (claims.get(k) ?? 0) + 1) })
    const tasks: string[] = []
    for (let i = 0; i < 12; i++) {
      const r = await n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array([i])) })
      assert.equal(r.verified, true)
      tasks.push(r.task.join(','))
      // Let the releases of claims that came after the draw land before the next task.
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    assert.deepEqual(tasks.map(t => claims.get(t)), tasks.map(() => 5))
    await stopAll(n)
  })

  it('puts stake at risk per claim: a worker is drawn only while its stake covers its open assignments', async () => {
    const n = await network(3, { submitter: { spotCheckRate: 0, roundMs: 300, stakePerClaim: credits(250) } })
    // Each worker staked 200 credits: not enough for one claim at 250.
    await assert.rejects(n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array(3)), options: { timeout: 400 } }), code('ERR_TASK_EXPIRED'))
    await stopAll(n)
    const m = await network(3, { submitter: { spotCheckRate: 0, roundMs: 300, stakePerClaim: credits(150) } })
    const ok = await m.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array(3)) })
    assert.equal(ok.workers.length, 3, 'one claim each fits in 200 credits of stake')
    await stopAll(m)
  })

  it('draws only workers whose stake stays locked past the deadline (a backdated or expiring lock does not count)', async () => {
    // A 50 ms unstake lock ends long before any task's deadline: no worker is eligible, however it refreshes.
    const n = await network(3, {}, true, 50)
    await assert.rejects(n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array(3)), options: { timeout: 400 } }), code('ERR_TASK_EXPIRED'))
    await stopAll(n)
    // With a 2 s lock, a worker restarts its lock once less than half of it is left, and stays eligible.
    const m = await network(3, {}, true, 2000)
    const worker = m.workers[0] as EdgeNode
    const first = m.ledger.chainState(worker.publicKey)?.stakeUnlockAt ?? 0
    await new Promise(resolve => setTimeout(resolve, 1200))
    assert.ok((m.ledger.chainState(worker.publicKey)?.stakeUnlockAt ?? 0) > first, 'the lock was restarted')
    const ok = await m.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array(3)), options: { timeout: 400 } })
    assert.equal(ok.verified, true)
    await stopAll(m)
  })

  it('signs every direct message when the transport does not authenticate senders; seed 001 callbacks fire', async () => {
    const credited: bigint[] = []
    const tasks: string[] = []
    const n = await network(3, { onCredit: (earned) => credited.push(earned), onTask: ({ type }) => tasks.push(type) }, false)
    const result = await n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array([7])) })
    assert.equal(result.verified, true)
    for (let i = 0; i < 100 && credited.length < 6; i++) await new Promise(resolve => setTimeout(resolve, 20))
    assert.deepEqual(tasks, ['encryption', 'encryption', 'encryption'])
    assert.equal(credited.length, 6, 'each worker: its payment and its reward')
    await n.workers[0]?.disconnect()
    await stopAll(n)
  })

  it('runs kernels in the worker_threads pool when given one', async () => {
    const pool = WorkerThreadsPool.create({ size: 1 })
    try {
      const n = await network(3, { runner: pool })
      const result = await n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array([5, 6])) })
      assert.equal(result.verified, true)
      assert.ok(pool.stats().completed >= 3, 'the workers ran their kernels in the pool')
      await stopAll(n)
    } finally {
      await pool.close()
    }
  })
})
