/**
 * edge-net task system, end to end, in one process: a submitter and three staked workers on the
 * seeded in-process network (the libp2p transport plugs into the same EdgeNode). The submitter
 * pays from escrow; workers are drawn by reputation, commit before they reveal, and a quorum of 3
 * must agree; each agreeing worker is paid and mints its contribution reward.
 *
 *   node examples/tasks.ts
 */
import {
  Account, EdgeNode, Identity, Ledger, MemoryNetwork, credits, formatCredits,
  DEFAULT_EMBEDDER, encodeEncryptionPayload, decodeEncryptionOutput,
  encodeSemanticMatchPayload, decodeSemanticMatchOutput
} from 'edge-net'

const [submitterId, ...workerIds] = await Promise.all([0, 1, 2, 3].map(async () => await Identity.generate())) as [Identity, ...Identity[]]
// One ledger replica shared by every node of this demo (each node keeps its own on a real network).
const ledger = Ledger.create({
  config: { networkId: 'tasks-demo', genesis: [submitterId, ...workerIds].map(id => ({ account: id.publicKey, amount: credits(1000) })) }
})
const clock = { now: () => Date.now() }
for (const id of workerIds) await new Account({ ledger, signer: id, clock }).stake(credits(100)) // the minimum stake to work

const network = new MemoryNetwork({ seed: 1, delayMs: [0, 3] })
const submitter = await EdgeNode.create({ identity: submitterId, ledger, transport: network.join(submitterId.publicKey), worker: { enabled: false } })
const workers = await Promise.all(workerIds.map(async id => await EdgeNode.create({ identity: id, ledger, transport: network.join(id.publicKey) })))
workers[0]?.on('credit:earned', ({ amount, kind }) => console.log(`worker 1 earned ${formatCredits(amount)} credits (${kind})`))

// 1. Encrypt with AES-256-GCM on three workers; the answer is accepted only if they agree.
const key = crypto.getRandomValues(new Uint8Array(32))
const iv = crypto.getRandomValues(new Uint8Array(12))
const sealed = await submitter.submit({
  type: 'encryption',
  payload: encodeEncryptionPayload({ op: 'encrypt', key, iv, data: new TextEncoder().encode('hello, edge-net') }),
  options: { redundancy: 3, timeout: 10_000 }
})
console.log(`encryption: ${decodeEncryptionOutput(sealed.output).data.length} bytes, verified ${sealed.verified}, ${sealed.workers.length} workers, cost ${formatCredits(sealed.cost)} credits`)

// 2. Route a task to the best-matching agent description.
const match = await submitter.submit({
  type: 'semantic_match',
  payload: encodeSemanticMatchPayload({
    model: DEFAULT_EMBEDDER.id,
    tasks: ['write a python function that parses dates'],
    candidates: ['an agent that writes and reviews python code', 'an agent that books flights', 'an agent that translates french'],
    k: 1
  })
})
const best = decodeSemanticMatchOutput(match.output).rankings[0]?.[0]
console.log(`semantic_match: best candidate ${String(best?.index)} (score ${String(best?.score)} ppm), verified ${match.verified}`)

await new Promise(resolve => setTimeout(resolve, 300)) // let the certificate round finish
const stats = workers[0]?.stats()
console.log(`worker 1: ${stats?.tasksCompleted} tasks completed, ${String(stats?.credits)} credits spendable, reputation ${stats?.reputation.toFixed(3)}`)
console.log(`conservation gap ${ledger.totals().conservationGap}`)
for (const node of [submitter, ...workers]) await node.stop()
