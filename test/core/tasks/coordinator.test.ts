import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { equalBytes } from '../../../src/core/bytes.ts'
import { TaskCoordinator, commitment, createEnvelope } from '../../../src/core/tasks/index.ts'
import type { CoordinatorAction, CoordinatorOptions, TaskEnvelope } from '../../../src/core/tasks/index.ts'
import { NET, identities } from '../../helpers/fixtures.ts'

const [submitter] = await identities(1)
const key = (i: number): Uint8Array => new Uint8Array(32).fill(i)
const sig = new Uint8Array(64)
const exact = (a: Uint8Array, b: Uint8Array): boolean => equalBytes(a, b)

async function envelope (): Promise<TaskEnvelope> {
  // created 0, deadline 10 000: commitBy 7000, revealBy 9000.
  return await createEnvelope(submitter as NonNullable<typeof submitter>, NET, { type: 'encryption', payload: new Uint8Array(1), size: 1, cap: 10n ** 9n, redundancy: 3, created: 0, deadline: 10_000, seed: key(42) })
}

function coordinator (env: TaskEnvelope, extra: Partial<CoordinatorOptions> = {}): TaskCoordinator {
  return new TaskCoordinator(env, { networkId: NET, agree: exact, seed: key(42), claimWindowMs: 100, execTimeoutMs: 2000, replicasFor: () => 3, ...extra })
}

const kinds = (actions: CoordinatorAction[]): string[] => actions.map(a => a.kind)

/** Run the happy path up to reveals; returns the assigned workers. */
function assignThree (c: TaskCoordinator): Uint8Array[] {
  for (let i = 1; i <= 4; i++) c.onClaim(key(i), 1, 10)
  assert.equal(c.phase, 'running')
  assert.equal(c.assigned.length, 3)
  return c.assigned
}

function commitAll (c: TaskCoordinator, env: TaskEnvelope, results: Map<Uint8Array, Uint8Array>): CoordinatorAction[] {
  let out: CoordinatorAction[] = []
  for (const [w, r] of results) out = c.onCommit(w, commitment(NET, env.id, w, r, key(9)), 50)
  return out
}

describe('TaskCoordinator', () => {
  it('draws after a short grace once the task has as many claims as replicas, not after the whole window', async () => {
    const env = await envelope()
    const c = coordinator(env, { claimWindowMs: 100, claimGraceMs: 10 })
    for (let i = 1; i <= 3; i++) assert.deepEqual(c.onClaim(key(i), 1, 5), [])
    assert.deepEqual(c.tick(14), [], 'still inside the grace: a spare claim may come')
    assert.deepEqual(kinds(c.tick(15)), ['assign', 'assign', 'assign'])
  })

  it('replaces a worker whose link went down at once, and late in the commit phase', async () => {
    const env = await envelope()
    const c = coordinator(env, { execTimeoutMs: 3500 })
    const workers = assignThree(c)
    const down = workers[1] as Uint8Array
    // 5000 ms in: an exec timeout (3500) no longer fits before commitBy (7000), a tenth of the phase does.
    const out = c.onWorkerDown(down, 5000)
    assert.deepEqual(kinds(out), ['missed', 'reannounce'])
    assert.deepEqual(kinds(c.onClaim(key(8), 1, 5100)), ['assign'])
    assert.equal(c.assigned.length, 4)
    assert.deepEqual(c.onWorkerDown(down, 5200), [], 'once')
    assert.deepEqual(kinds(c.onClaim(key(9), 1, 6400)), ['release'], 'no replacement needed any more')
  })

  it('draws on enough claims, opens on the quorum\'s commits, settles a unanimous answer', async () => {
    const env = await envelope()
    const c = coordinator(env)
    const workers = assignThree(c)
    const results = new Map(workers.map(w => [w, new Uint8Array([7])]))
    assert.deepEqual(kinds(commitAll(c, env, results)), ['open'])
    let last: CoordinatorAction[] = []
    for (const w of workers) last = c.onReveal({ worker: w, result: new Uint8Array([7]), nonce: key(9), resultSig: sig }, 60)
    assert.equal(last.length, 1)
    const settle = last[0] as Extract<CoordinatorAction, { kind: 'settle' }>
    assert.equal(settle.kind, 'settle')
    assert.equal(settle.outcome.agreeing.length, 3)
    assert.equal(settle.outcome.proven, false)
  })

  it('tells claimants it did not draw to go', async () => {
    const env = await envelope()
    const c = coordinator(env)
    const out: CoordinatorAction[] = []
    for (let i = 1; i <= 4; i++) out.push(...c.onClaim(key(i), 1, 10))
    assert.deepEqual(kinds(out), ['assign', 'assign', 'assign', 'release'])
    assert.deepEqual(kinds(c.onClaim(key(5), 1, 20)), ['release'])
  })

  it('sends a disagreement to the referee and judges everyone against its answer', async () => {
    const env = await envelope()
    const c = coordinator(env)
    const [a, b, d] = assignThree(c) as [Uint8Array, Uint8Array, Uint8Array]
    // Two colluders agree on a wrong answer; the honest worker is in the minority.
    const results = new Map([[a, new Uint8Array([1])], [b, new Uint8Array([6])], [d, new Uint8Array([6])]])
    commitAll(c, env, results)
    let out: CoordinatorAction[] = []
    for (const [w, r] of results) out = c.onReveal({ worker: w, result: r, nonce: key(9), resultSig: sig }, 60)
    assert.deepEqual(kinds(out), ['referee'])
    const [settle] = c.onReferee(new Uint8Array([1]), 70) as [Extract<CoordinatorAction, { kind: 'settle' }>]
    assert.deepEqual(settle.outcome.agreeing, [a])
    assert.deepEqual(settle.outcome.outliers.map(o => o.worker), [b, d])
    assert.equal(settle.outcome.proven, true)
  })

  it('without a referee, a majority decides and nobody is proven wrong', async () => {
    const env = await envelope()
    const c = coordinator(env, { referee: false })
    const [a, b, d] = assignThree(c) as [Uint8Array, Uint8Array, Uint8Array]
    const results = new Map([[a, new Uint8Array([1])], [b, new Uint8Array([6])], [d, new Uint8Array([6])]])
    commitAll(c, env, results)
    let out: CoordinatorAction[] = []
    for (const [w, r] of results) out = c.onReveal({ worker: w, result: r, nonce: key(9), resultSig: sig }, 60)
    const settle = out[0] as Extract<CoordinatorAction, { kind: 'settle' }>
    assert.deepEqual(settle.outcome.agreeing, [b, d])
    assert.equal(settle.outcome.proven, false)
  })

  it('judges a spot-check against the known answer', async () => {
    const env = await envelope()
    const c = coordinator(env, { known: new Uint8Array([5]), replicasFor: () => 1 })
    c.onClaim(key(1), 1, 10)
    c.tick(200) // the claim window ends with one claim
    const [w] = c.assigned as [Uint8Array]
    c.onCommit(w, commitment(NET, env.id, w, new Uint8Array([4]), key(9)), 300)
    const [settle] = c.onReveal({ worker: w, result: new Uint8Array([4]), nonce: key(9), resultSig: sig }, 310) as [Extract<CoordinatorAction, { kind: 'settle' }>]
    assert.equal(settle.outcome.spotCheck, true)
    assert.equal(settle.outcome.agreeing.length, 0)
    assert.equal(settle.outcome.outliers.length, 1)
    assert.deepEqual(settle.outcome.result, new Uint8Array([5]))
  })

  it('marks a reveal that does not open its commitment invalid (a copier is never paid)', async () => {
    const env = await envelope()
    const c = coordinator(env)
    const [a, b, d] = assignThree(c) as [Uint8Array, Uint8Array, Uint8Array]
    const good = new Uint8Array([3])
    c.onCommit(a, commitment(NET, env.id, a, good, key(9)), 50)
    c.onCommit(b, commitment(NET, env.id, b, good, key(9)), 50)
    c.onCommit(d, key(77), 50) // the copier commits to noise
    c.onReveal({ worker: a, result: good, nonce: key(9), resultSig: sig }, 60)
    c.onReveal({ worker: d, result: good, nonce: key(9), resultSig: sig }, 60) // copied
    const [settle] = c.onReveal({ worker: b, result: good, nonce: key(9), resultSig: sig }, 60) as [Extract<CoordinatorAction, { kind: 'settle' }>]
    assert.deepEqual(settle.outcome.agreeing, [a, b])
    assert.deepEqual(settle.outcome.invalid, [d])
  })

  it('replaces a worker that misses its phase, while time allows', async () => {
    const env = await envelope()
    const c = coordinator(env)
    const [a, b] = assignThree(c) as [Uint8Array, Uint8Array, Uint8Array]
    c.onCommit(a, commitment(NET, env.id, a, new Uint8Array([1]), key(9)), 100)
    c.onCommit(b, commitment(NET, env.id, b, new Uint8Array([1]), key(9)), 100)
    assert.deepEqual(kinds(c.onClaim(key(8), 1, 500)), ['release'], 'a claimant not needed yet is let go')
    const out = c.tick(2100) // the third worker's exec timeout passed
    assert.deepEqual(kinds(out), ['missed', 'reannounce'])
    assert.deepEqual(kinds(c.onClaim(key(8), 1, 2150)), ['assign'])
    assert.equal(c.assigned.length, 4)
    assert.deepEqual(kinds(c.tick(6400)), ['missed'], 'no replacement once not even a tenth of the commit phase is left before commitBy')
  })

  it('expires when nobody claims, and when nobody commits', async () => {
    const env = await envelope()
    const c = coordinator(env)
    assert.deepEqual(kinds(c.tick(7000)), ['fail'])
    const c2 = coordinator(env)
    assignThree(c2)
    const out = c2.tick(7000)
    const fail = out.find(a => a.kind === 'fail') as Extract<CoordinatorAction, { kind: 'fail' }>
    assert.equal(fail.code, 'ERR_TASK_EXPIRED')
    assert.equal(fail.outcome.missed.length, 3)
  })

  it('ignores late, repeated and unassigned messages', async () => {
    const env = await envelope()
    const c = coordinator(env)
    const [a] = assignThree(c) as [Uint8Array]
    assert.deepEqual(c.onCommit(key(66), key(1), 50), [])
    c.onCommit(a, commitment(NET, env.id, a, new Uint8Array([1]), key(9)), 50)
    assert.deepEqual(c.onCommit(a, key(2), 51), [])
    assert.deepEqual(c.onReveal({ worker: a, result: new Uint8Array([1]), nonce: key(9), resultSig: sig }, 52), [], 'no reveal before the reveal phase')
  })
})
