/**
 * EdgeNode's library API (issue 3 §5, §7): submit → { output, cost, workers, verified }, typed
 * events, stats, pause/resume/stop, and bad input refused with a typed error and nothing reserved.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { credits, priceTask } from '../../src/core/economy/index.ts'
import { Identity, PairBox } from '../../src/core/identity/index.ts'
import { toHex } from '../../src/core/bytes.ts'
import { decodeCanonical } from '../../src/core/codec/index.ts'
import { KernelError, encodeEncryptionPayload, decodeEncryptionOutput, KERNELS } from '../../src/core/kernels/index.ts'
import { Account, Ledger } from '../../src/core/ledger/index.ts'
import { MAX_MESSAGE_BYTES, TaskError, commitment, createEnvelope, frameTaskMessage, openPayload, openTaskMessage, readEnvelope } from '../../src/core/tasks/index.ts'
import { EdgeNode } from '../../src/runtime/edge-node.ts'
import { MemoryNetwork } from '../../src/runtime/memory-network.ts'
import type { MemoryTransport } from '../../src/runtime/memory-network.ts'
import { TASK_DIRECT_TOPIC, TASK_TOPIC } from '../../src/runtime/context.ts'
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
  it('runs an assignment that arrives after its claim lapsed (claimTtlMs), instead of leaving the task short until the commit phase ends', async () => {
    // Every message takes 40-60 ms and claims lapse after 1 ms: each assignment meets a lapsed
    // claim. Before, the worker had forgotten the claim and the task expired.
    const ids = await Promise.all(Array.from({ length: 4 }, async () => await Identity.generate()))
    const [subId, ...workerIds] = ids as [Identity, ...Identity[]]
    const ledger = Ledger.create({ config: { networkId: NET, genesis: ids.map(id => ({ account: id.publicKey, amount: credits(10_000) })) } })
    const clock = { now: () => Date.now() }
    for (const id of workerIds) await new Account({ ledger, signer: id, clock }).stake(credits(200))
    const net = new MemoryNetwork({ seed: 21, delayMs: [40, 60] })
    const common = { ledger, submitter: { spotCheckRate: 0, roundMs: 300 } }
    const submitter = await EdgeNode.create({ ...common, identity: subId, transport: net.join(subId.publicKey), worker: { enabled: false } })
    const workers = await Promise.all(workerIds.map(async id => await EdgeNode.create({ ...common, identity: id, transport: net.join(id.publicKey), worker: { claimTtlMs: 1 } })))
    try {
      const result = await submitter.submit({ type: 'encryption', payload: payloadOf(Uint8Array.of(5, 6, 7)), options: { timeout: 4000 } })
      assert.equal(result.verified, true)
      assert.equal(result.workers.length, 3)
    } finally {
      for (const node of [submitter, ...workers]) await node.stop()
    }
  })

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

describe('EdgeNode sealing (payloads and results end to end)', () => {
  /** A submitter, two EdgeNode workers and one raw peer `raw` (staked) that speaks the protocol by hand. */
  async function rig (): Promise<{ n: Net, raw: Identity, rawT: MemoryTransport, bad: Array<[string, string]>, wire: Array<{ from: Uint8Array, data: Uint8Array }> }> {
    const ids = await Promise.all(Array.from({ length: 4 }, async () => await Identity.generate()))
    const [subId, rawId, ...workerIds] = ids as [Identity, Identity, ...Identity[]]
    const ledger = Ledger.create({ config: { networkId: NET, genesis: ids.map(id => ({ account: id.publicKey, amount: credits(10_000) })) } })
    const clock = { now: () => Date.now() }
    for (const id of ids) await new Account({ ledger, signer: id, clock }).stake(credits(200))
    const net = new MemoryNetwork({ seed: 11 })
    const bad: Array<[string, string]> = []
    const wire: Array<{ from: Uint8Array, data: Uint8Array }> = []
    net.tap = (from, _to, topic, data) => { if (topic === TASK_DIRECT_TOPIC) wire.push({ from, data }) }
    const common = { ledger, submitter: { spotCheckRate: 0, roundMs: 300 }, onBadMessage: (from: Uint8Array, error: TaskError) => { bad.push([toHex(from), error.code]) } }
    const submitter = await EdgeNode.create({ ...common, identity: subId, transport: net.join(subId.publicKey), worker: { enabled: false } })
    const workers = await Promise.all(workerIds.map(async id => await EdgeNode.create({ ...common, identity: id, transport: net.join(id.publicKey) })))
    const rawT = net.join(rawId.publicKey)
    return { n: { ledger, submitter, workers, poor: submitter, network: net }, raw: rawId, rawT, bad, wire }
  }
  const contains = (hay: Uint8Array, needle: Uint8Array): boolean => {
    outer: for (let i = 0; i + needle.length <= hay.length; i++) {
      for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
      return true
    }
    return false
  }

  it('no direct message carries the payload or a result in clear', async () => {
    const { n, rawT, wire } = await rig()
    after(async () => { await stopAll(n) })
    await rawT.close() // two honest workers and the submitter only
    const payload = payloadOf(crypto.getRandomValues(new Uint8Array(48)))
    const result = await n.submitter.submit({ type: 'encryption', payload, options: { redundancy: 2 } })
    assert.equal(result.verified, true)
    const kinds = new Set<string>()
    for (const { data } of wire) {
      kinds.add((decodeCanonical(data, MAX_MESSAGE_BYTES) as unknown[])[1] as string)
      assert.ok(!contains(data, payload.subarray(0, 40)), 'the payload travels sealed')
      assert.ok(!contains(data, result.output.subarray(0, 40)), 'the result travels sealed')
    }
    assert.ok(kinds.has('assign') && kinds.has('reveal'))
  })

  it('an assignment whose box does not open is a bad message from the submitter; the worker runs nothing', async () => {
    const { n, raw, rawT, bad } = await rig()
    after(async () => { await rawT.close(); await stopAll(n) })
    // `raw` submits by hand: it gossips a signed envelope, then answers each claim with garbage.
    const assigned: unknown[] = []
    for (const w of n.workers) w.on('task:assigned', d => assigned.push(d))
    const seed = crypto.getRandomValues(new Uint8Array(32))
    const payload = payloadOf(new Uint8Array([1, 2, 3]))
    const now = Date.now()
    const env = await createEnvelope(raw, NET, { type: 'encryption', payload, size: 3, cap: credits(1), redundancy: 1, created: now, deadline: now + 5000, seed })
    const claims: Uint8Array[] = []
    rawT.onMessage((from, topic, data) => {
      if (topic !== TASK_DIRECT_TOPIC) return
      void openTaskMessage(NET, data, from).then(msg => {
        if (msg.kind !== 'claim') return
        claims.push(from)
        rawT.send(from, TASK_DIRECT_TOPIC, frameTaskMessage('assign', env.id, raw.publicKey, { seed, workers: [from], sealed: new Uint8Array(80).fill(7) }))
      })
    })
    rawT.publish(TASK_TOPIC, env.bytes)
    for (let i = 0; i < 100 && bad.length < claims.length + (claims.length === 0 ? 1 : 0); i++) await new Promise(resolve => setTimeout(resolve, 10))
    assert.ok(claims.length >= 1, 'a worker claimed')
    assert.deepEqual(bad, claims.map(() => [toHex(raw.publicKey), 'ERR_TASK_BAD_MESSAGE']))
    assert.equal(assigned.length, 0, 'nothing ran')
  })

  it('a claim with a forged key binding, and a reveal whose box does not open, are bad messages from the worker', async () => {
    const { n, raw, rawT, bad } = await rig()
    for (const w of n.workers) w.pause() // the raw peer is the only worker
    const box = new PairBox(raw, { networkId: NET })
    const forged = new Uint8Array(64).fill(1)
    let claimedOnce = false
    const sent: string[] = []
    const reply = (to: Uint8Array, bytes: Uint8Array, kind: string): void => { sent.push(kind); rawT.send(to, TASK_DIRECT_TOPIC, bytes) }
    let env: ReturnType<typeof readEnvelope> | undefined
    rawT.onMessage((from, topic, data) => {
      if (topic === TASK_TOPIC) {
        env = readEnvelope(NET, data)
        // First a claim whose binding is forged, then an honest one.
        const binding = claimedOnce ? undefined : forged
        claimedOnce = true
        void (async () => {
          reply(from, frameTaskMessage('claim', (env as NonNullable<typeof env>).id, raw.publicKey, { agree: raw.agreementPublicKey, binding: binding ?? await box.binding() }), 'claim')
        })()
        return
      }
      if (topic !== TASK_DIRECT_TOPIC || env === undefined) return
      const e = env
      void openTaskMessage(NET, data, from).then(async msg => {
        if (msg.kind === 'assign') {
          const payload = await openPayload(box, e, msg.body.sealed)
          const result = await (KERNELS.encryption as NonNullable<typeof KERNELS.encryption>).run(payload)
          reply(from, frameTaskMessage('commit', e.id, raw.publicKey, { commitment: commitment(NET, e.id, raw.publicKey, result, new Uint8Array(32)) }), 'commit')
        } else if (msg.kind === 'open') {
          reply(from, frameTaskMessage('reveal', e.id, raw.publicKey, { sealed: new Uint8Array(90).fill(3) }), 'reveal')
        }
      })
    })
    const task = n.submitter.submit({ type: 'encryption', payload: payloadOf(new Uint8Array([4])), options: { redundancy: 1, timeout: 1500 } })
    after(async () => { await rawT.close(); await stopAll(n) })
    // The forged claim is refused; the task is announced again and the honest claim is drawn; its
    // reveal does not open, so nothing was revealed and the task fails.
    await assert.rejects(task, code('ERR_TASK_NOT_VERIFIED'))
    assert.deepEqual(sent.slice(0, 2), ['claim', 'claim'])
    assert.ok(sent.includes('reveal'), 'the raw worker was drawn, committed and revealed')
    const rawKey = toHex(raw.publicKey)
    assert.deepEqual(bad.filter(([who]) => who === rawKey), [[rawKey, 'ERR_TASK_BAD_MESSAGE'], [rawKey, 'ERR_TASK_BAD_MESSAGE']])
    assert.equal(n.ledger.account(n.submitter.publicKey).reserved, 0n, 'nothing was applied: the escrow came back whole')
  })
})
