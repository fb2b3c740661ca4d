import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { check } from '../../helpers/property.ts'
import { createSeriesTracker, DashboardError } from '../../../src/adapters/dashboard/index.ts'

function isCode (code: string) {
  return (err: unknown): boolean => err instanceof DashboardError && err.code === code
}

describe('createSeriesTracker()', () => {
  it('publishes closed intervals only: tasks per second and the median latency', () => {
    const t = createSeriesTracker({ intervalMs: 1000, capacity: 10 })
    t.record(10_100, 30)
    t.record(10_500, 10)
    t.record(10_900, 20)
    assert.deepEqual(t.series(10_999), { throughput: [], latencyP50: [] }, 'the open interval is not shown')
    t.record(11_200, 5)
    assert.deepEqual(t.series(12_000), {
      throughput: [[11_000, 3], [12_000, 1]],
      latencyP50: [[11_000, 20], [12_000, 5]]
    })
  })

  it('scales the rate to per second and takes the lower median of an even count', () => {
    const t = createSeriesTracker({ intervalMs: 500, capacity: 4 })
    for (const latency of [40, 10, 30, 20]) t.record(1000, latency)
    assert.deepEqual(t.series(1500), { throughput: [[1500, 8]], latencyP50: [[1500, 20]] })
  })

  it('fills silent intervals with zero throughput and a null latency gap', () => {
    const t = createSeriesTracker({ intervalMs: 1000, capacity: 10 })
    t.record(0, 7)
    const s = t.series(4000)
    assert.deepEqual(s.throughput, [[1000, 1], [2000, 0], [3000, 0], [4000, 0]])
    assert.deepEqual(s.latencyP50, [[1000, 7], [2000, null], [3000, null], [4000, null]])
  })

  it('keeps the newest `capacity` intervals, also across a gap longer than the ring', () => {
    const t = createSeriesTracker({ intervalMs: 1000, capacity: 3 })
    for (let i = 0; i < 6; i++) t.record(i * 1000, i)
    assert.deepEqual(t.series(6000).throughput.map(p => p[0]), [4000, 5000, 6000])
    t.record(1_000_000, 1)
    const late = t.series(1_001_000)
    assert.deepEqual(late.throughput, [[999_000, 0], [1_000_000, 0], [1_001_000, 1]])
  })

  it('counts a late sample in the open interval', () => {
    const t = createSeriesTracker({ intervalMs: 1000, capacity: 5 })
    t.record(5000, 1)
    t.record(3000, 2)
    assert.deepEqual(t.series(6000).throughput, [[6000, 2]])
  })

  it('refuses bad samples and leaves the tracker unchanged', () => {
    const t = createSeriesTracker({ intervalMs: 1000, capacity: 5 })
    t.record(500, 1)
    for (const [at, latency] of [[Number.NaN, 1], [Infinity, 1], [600, -1], [600, Number.NaN], [600, Infinity]] as const) {
      assert.throws(() => { t.record(at, latency) }, isCode('ERR_DASHBOARD_BAD_SAMPLE'))
    }
    assert.throws(() => t.series(Number.NaN), isCode('ERR_DASHBOARD_BAD_SAMPLE'))
    assert.deepEqual(t.series(1000), { throughput: [[1000, 1]], latencyP50: [[1000, 1]] })
  })

  it('refuses bad options', () => {
    for (const options of [{ intervalMs: 99 }, { intervalMs: 1.5e3 + 0.5 }, { intervalMs: 3_600_001 }, { capacity: 1 }, { capacity: 10_001 }, { capacity: 2.5 }]) {
      assert.throws(() => createSeriesTracker(options), isCode('ERR_DASHBOARD_BAD_OPTIONS'), JSON.stringify(options))
    }
    const t = createSeriesTracker()
    assert.equal(t.intervalMs, 1000)
    assert.equal(t.capacity, 120)
  })

  it('accounts for every sample: the rates integrate to the count, medians lie within each interval (property)', () => {
    check(fc.property(
      fc.integer({ min: 100, max: 5000 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 200_000 }), fc.double({ min: 0, max: 1e6, noNaN: true })), { maxLength: 300 }),
      (intervalMs, raw) => {
        const samples = [...raw].sort((a, b) => a[0] - b[0])
        const t = createSeriesTracker({ intervalMs, capacity: 10_000 })
        for (const [at, latency] of samples) t.record(at, latency)
        const end = 200_000 + intervalMs
        const s = t.series(end)
        const total = s.throughput.reduce((n, p) => n + (p[1] as number) * intervalMs / 1000, 0)
        assert.ok(Math.abs(total - samples.length) < 1e-6, `total ${total} vs ${samples.length}`)
        for (const [tEnd, median] of s.latencyP50) {
          const inside = samples.filter(([at]) => at >= tEnd - intervalMs && at < tEnd).map(x => x[1])
          if (inside.length === 0) assert.equal(median, null)
          else assert.ok(median !== null && Math.min(...inside) <= median && median <= Math.max(...inside))
        }
        // Points are ascending and one interval apart.
        for (let i = 1; i < s.throughput.length; i++) {
          assert.equal((s.throughput[i] as [number, number])[0] - (s.throughput[i - 1] as [number, number])[0], intervalMs)
        }
      }
    ), 200)
  })
})
