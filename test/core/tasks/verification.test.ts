import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { AdaptiveReplication, judge, tally } from '../../../src/core/tasks/index.ts'
import { equalBytes } from '../../../src/core/bytes.ts'
import { prng } from '../../helpers/fixtures.ts'

const w = (i: number): Uint8Array => new Uint8Array(32).fill(i)
const r = (x: number): Uint8Array => new Uint8Array([x])
const exact = (a: Uint8Array, b: Uint8Array): boolean => equalBytes(a, b)

describe('tally and judge', () => {
  it('keeps the largest agreeing group', () => {
    const t = tally([{ worker: w(1), result: r(5) }, { worker: w(2), result: r(6) }, { worker: w(3), result: r(5) }], exact)
    assert.deepEqual(t.result, r(5))
    assert.deepEqual(t.agreeing, [w(1), w(3)])
    assert.deepEqual(t.outliers, [w(2)])
    assert.deepEqual(tally([], exact), { result: null, agreeing: [], outliers: [] })
  })

  it('groups by tolerance when the comparator has one', () => {
    const close = (a: Uint8Array, b: Uint8Array): boolean => Math.abs((a[0] as number) - (b[0] as number)) <= 1
    const t = tally([{ worker: w(1), result: r(10) }, { worker: w(2), result: r(11) }, { worker: w(3), result: r(40) }], close)
    assert.equal(t.agreeing.length, 2)
    assert.deepEqual(t.outliers, [w(3)])
  })

  it('judges against a known answer', () => {
    const j = judge([{ worker: w(1), result: r(5) }, { worker: w(2), result: r(6) }], r(6), exact)
    assert.deepEqual(j.agreeing, [w(2)])
    assert.deepEqual(j.outliers, [w(1)])
  })
})

describe('AdaptiveReplication (BOINC)', () => {
  it('always replicates newcomers, trusts after K valid results with probability 1 - 1/CV, resets on one invalid', () => {
    const ar = new AdaptiveReplication({ threshold: 10 })
    const random = prng(11)
    for (let i = 0; i < 9; i++) {
      assert.equal(ar.replicas(w(1), 'encryption', 3, random()), 3)
      ar.record(w(1), 'encryption', true)
    }
    ar.record(w(1), 'encryption', true) // CV = 10
    let single = 0
    for (let i = 0; i < 10_000; i++) if (ar.replicas(w(1), 'encryption', 3, random()) === 1) single++
    assert.ok(Math.abs(single / 10_000 - 0.9) < 0.02, `alone ${single / 10_000} of the time at CV 10, expected 0.9`)
    assert.equal(ar.replicas(w(1), 'embedding', 3, 0.99), 3, 'counters are per task type')
    ar.record(w(1), 'encryption', false)
    assert.equal(ar.consecutiveValid(w(1), 'encryption'), 0)
    assert.equal(ar.replicas(w(1), 'encryption', 3, 0.99), 3)
  })
})
