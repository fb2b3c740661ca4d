/**
 * Laws of the ledger as fast-check properties: merge is a join (commutative, associative,
 * idempotent), any byte mutation of an event is refused with a typed error, and a signed message
 * replayed in another network, as another type or at another position changes nothing.
 */
import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Ledger, merge } from '../../../src/core/ledger/ledger.ts'
import { decodeEvent, signEvent } from '../../../src/core/ledger/event.ts'
import { EdgeNetError } from '../../../src/core/errors.ts'
import { encodeCanonical, decodeCanonical } from '../../../src/core/codec/index.ts'
import { certificateStatement } from '../../../src/core/ledger/certificate.ts'
import { NET, identities, prng, seedFromEnv, testConfig } from '../../helpers/fixtures.ts'
import { randomHistory } from '../../helpers/history.ts'
import type { History } from '../../helpers/history.ts'

const SIM = { minStake: 0n, stakeLockMs: 5, rewardLockMs: 5 }
const seed = seedFromEnv()
const runs = Number(process.env.RUNS ?? 60)

let history: History

async function ledgerOf (events: Uint8Array[]): Promise<Ledger> {
  const l = Ledger.create({ config: history.generator.config })
  await l.ingest(events)
  return l
}

function fingerprint (l: Ledger, ids: Uint8Array[]): string {
  return JSON.stringify({ root: l.stateRootHex(), totals: l.totals(), accounts: ids.map(id => l.account(id)) }, (_k, v) => typeof v === 'bigint' ? v.toString() : v)
}

describe('ledger laws', () => {
  let ids: Uint8Array[]
  before(async () => {
    const pool = await identities(6)
    ids = pool.map(p => p.publicKey)
    history = await randomHistory({ rand: prng(seed), ids: pool, events: 60, forks: 0.04 })
  })

  const subset = fc.array(fc.boolean(), { minLength: 60, maxLength: 60 })

  it('merge is commutative, associative and idempotent', async () => {
    await fc.assert(fc.asyncProperty(subset, subset, subset, async (ma, mb, mc) => {
      const pickEvents = (mask: boolean[]): Uint8Array[] => history.events.filter((_, i) => mask[i] === true)
      const [a, b, c] = await Promise.all([ledgerOf(pickEvents(ma)), ledgerOf(pickEvents(mb)), ledgerOf(pickEvents(mc))])
      assert.equal(fingerprint(await merge(a, b), ids), fingerprint(await merge(b, a), ids))
      assert.equal(fingerprint(await merge(await merge(a, b), c), ids), fingerprint(await merge(a, await merge(b, c)), ids))
      assert.equal(fingerprint(await merge(a, a), ids), fingerprint(a, ids))
    }), { seed, numRuns: runs, endOnFailure: true }).catch((err: unknown) => { console.error(`merge laws failed with SEED=${seed}`); throw err })
  })

  it('any order of the full history gives the same set and views', async () => {
    const whole = fingerprint(await ledgerOf(history.events), ids)
    await fc.assert(fc.asyncProperty(fc.shuffledSubarray(history.events, { minLength: history.events.length }), async (order) => {
      assert.equal(fingerprint(await ledgerOf(order), ids), whole)
    }), { seed, numRuns: runs }).catch((err: unknown) => { console.error(`order law failed with SEED=${seed}`); throw err })
  })

  it('refuses every mutated byte string with a typed error and changes nothing', async () => {
    const base = await ledgerOf(history.events.slice(0, 20))
    const root = base.stateRootHex()
    await fc.assert(fc.asyncProperty(fc.nat({ max: 19 }), fc.nat(), fc.integer({ min: 1, max: 255 }), async (which, pos, xor) => {
      const original = history.events[which] as Uint8Array
      const mutated = original.slice()
      const at = pos % mutated.length
      mutated[at] = (mutated[at] as number) ^ xor
      const fresh = Ledger.create({ config: history.generator.config })
      await fresh.ingest(history.events.slice(0, 20).filter((_, i) => i !== which))
      const before = fresh.stateRootHex()
      const r = await fresh.ingest(mutated)
      if (r.applied.length > 0) assert.fail(`a mutation at byte ${at} was applied`)
      if (r.pending === 0) {
        assert.equal(r.rejected.length, 1)
        assert.ok(r.rejected[0]?.error instanceof EdgeNetError && /^ERR_/.test(r.rejected[0].error.code))
      }
      assert.equal(fresh.stateRootHex(), before)
      // truncation and trailing bytes too
      const cut = await fresh.ingest(original.subarray(0, at))
      assert.equal(cut.applied.length, 0)
      const extra = new Uint8Array(original.length + 1); extra.set(original)
      const trailing = await fresh.ingest(extra)
      assert.equal(trailing.rejected[0]?.error.code, 'ERR_BAD_EVENT')
    }), { seed, numRuns: runs * 5 }).catch((err: unknown) => { console.error(`mutation law failed with SEED=${seed}`); throw err })
    assert.equal(base.stateRootHex(), root)
  })

  it('a signed message replayed in another network, type or position changes nothing', async () => {
    const [a, b] = await identities(2) as [NonNullable<Awaited<ReturnType<typeof identities>>[0]>, NonNullable<Awaited<ReturnType<typeof identities>>[0]>]
    const home = Ledger.create({ config: history.generator.config })
    await home.ingest(history.events)
    const root = home.stateRootHex()
    const foreign = Ledger.create({ config: { ...history.generator.config, networkId: 'another-net' } })
    // another network: every event's signature fails there
    const r = await foreign.ingest(history.events)
    assert.equal(r.applied.length, 0)
    assert.ok(r.rejected.every(x => x.error.code === 'ERR_BAD_SIGNATURE'))
    // the same event again: a duplicate, nothing changes
    const again = await home.ingest(history.events)
    assert.equal(again.duplicates, history.events.length)
    assert.equal(home.stateRootHex(), root)
    // another type or position with the same signature: the signature no longer matches
    const original = decodeEvent(NET, history.events[0] as Uint8Array)
    const raw = decodeCanonical(original.bytes) as unknown[]
    for (const [field, value] of [[1, 'heartbeat'], [3, original.seq + 1], [6, original.time + 1]] as const) {
      const changed = [...raw]
      changed[field] = field === 1 && original.type === 'heartbeat' ? 'audit' : value
      if (field === 1) changed[7] = {}
      const res = await home.ingest(encodeCanonical(changed))
      assert.equal(res.applied.length, 0)
      assert.ok(res.rejected.length + res.pending === 1)
    }
    // a certificate signature presented as an event signature
    const unsigned = { type: 'heartbeat' as const, author: a.publicKey, seq: 1, prev: null, deps: [], time: 1, body: {} }
    const certSig = await a.sign(certificateStatement(NET, { task: new Uint8Array(32), result: new Uint8Array(32), base: 1n, hours: 0, workers: [b.publicKey], submitter: a.publicKey }))
    const good = await signEvent(NET, a, unsigned)
    const graft = decodeCanonical(good.bytes) as unknown[]
    graft[8] = certSig
    const res = await Ledger.create({ config: testConfig(SIM) }).ingest(encodeCanonical(graft))
    assert.equal(res.rejected[0]?.error.code, 'ERR_BAD_SIGNATURE')
    assert.equal(home.stateRootHex(), root)
  })
})
