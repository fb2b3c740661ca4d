import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiplierView, DashboardError } from '../../../src/adapters/dashboard/index.ts'
import { contributionMultiplier } from '../../../src/core/economy/multiplier.ts'
import { EconomyError } from '../../../src/core/economy/errors.ts'

describe('multiplierView()', () => {
  it('gives the value and stage at the network hours and a curve from 0 to 5·D', () => {
    const m = multiplierView(250_000)
    assert.equal(m.networkHours, 250_000)
    assert.equal(m.value, contributionMultiplier(250_000))
    assert.equal(m.stage, 'Pioneer')
    assert.equal(m.curve.length, 121)
    assert.deepEqual(m.curve[0], [0, 10])
    assert.equal(m.curve.at(-1)?.[0], 5_000_000)
    for (let i = 1; i < m.curve.length; i++) {
      const [h0, v0] = m.curve[i - 1] as [number, number]
      const [h1, v1] = m.curve[i] as [number, number]
      assert.ok(h1 > h0 && v1 < v0, 'hours ascend, the multiplier decays')
    }
    assert.equal(multiplierView(0).stage, 'Genesis')
  })

  it('stretches the curve to keep a late network on the chart, and honours options', () => {
    assert.equal(multiplierView(8_000_000).curve.at(-1)?.[0], 10_000_000)
    const m = multiplierView(5, { points: 3, maxHours: 10, curve: { max: 5, decay: 10 } })
    assert.deepEqual(m.curve.map(p => p[0]), [0, 5, 10])
    assert.equal(m.curve[0]?.[1], 5)
    assert.equal(m.value, contributionMultiplier(5, { max: 5, decay: 10 }))
  })

  it('refuses bad options and bad hours with typed errors', () => {
    for (const points of [1, 2001, 2.5]) {
      assert.throws(() => multiplierView(0, { points }), (e: unknown) => e instanceof DashboardError && e.code === 'ERR_DASHBOARD_BAD_OPTIONS')
    }
    for (const maxHours of [0, -1, Number.NaN, Infinity]) {
      assert.throws(() => multiplierView(0, { maxHours }), (e: unknown) => e instanceof DashboardError && e.code === 'ERR_DASHBOARD_BAD_OPTIONS')
    }
    assert.throws(() => multiplierView(-1), (e: unknown) => e instanceof EconomyError && e.code === 'ERR_BAD_HOURS')
  })
})
