import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  contributionMultiplier, multiplierPpb, applyMultiplier, getTiers, getTierName,
  CURVE_STAGE_NAMES, DEFAULT_DECAY_HOURS, MULTIPLIER_SCALE, EconomyError
} from '../../../src/core/economy/index.ts'
import { check } from '../../helpers/property.ts'

const hours = fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true })
const curve = fc.record({
  max: fc.double({ min: 1, max: 1000, noNaN: true, noDefaultInfinity: true }),
  decay: fc.double({ min: 1e-3, max: 1e9, noNaN: true, noDefaultInfinity: true })
})
const bad = (code: string) => ({ name: 'EconomyError', code })

describe('economy', () => {
  describe('contributionMultiplier()', () => {
    it('is 10 at genesis and 1 + 9/e at the decay constant (seed 001 Appendix A)', () => {
      assert.equal(contributionMultiplier(0), 10)
      assert.ok(Math.abs(contributionMultiplier(DEFAULT_DECAY_HOURS) - (1 + 9 / Math.E)) < 1e-12)
      assert.ok(Math.abs(contributionMultiplier(DEFAULT_DECAY_HOURS) - 4.311) < 1e-3)
      assert.ok(Math.abs(contributionMultiplier(2 * DEFAULT_DECAY_HOURS) - 2.218) < 1e-3)
      assert.ok(Math.abs(contributionMultiplier(100_000, { decay: 100_000 }) - (1 + 9 / Math.E)) < 1e-12)
    })

    it('honours max and decay', () => {
      assert.equal(contributionMultiplier(0, { max: 5 }), 5)
      assert.equal(contributionMultiplier(12345, { max: 1 }), 1)
    })

    it('is non-increasing in hours and stays within [1, max]', () => {
      check(fc.property(hours, hours, curve, (a, b, c) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a]
        const mLo = contributionMultiplier(lo, c)
        const mHi = contributionMultiplier(hi, c)
        return mLo >= mHi && mHi >= 1 && mLo <= c.max
      }))
    })

    it('rejects bad hours with ERR_BAD_HOURS and bad curves with ERR_BAD_CURVE', () => {
      for (const h of [-1, -1e-9, Number.NaN, Infinity, -Infinity, '5' as unknown as number]) {
        assert.throws(() => contributionMultiplier(h), bad('ERR_BAD_HOURS'), String(h))
        assert.throws(() => multiplierPpb(h), bad('ERR_BAD_HOURS'), String(h))
      }
      for (const options of [{ max: 0.99 }, { max: Number.NaN }, { max: 1e7 }, { decay: 0 }, { decay: -1 }, { decay: Infinity }, { decay: Number.NaN }]) {
        assert.throws(() => contributionMultiplier(1, options), bad('ERR_BAD_CURVE'), JSON.stringify(options))
        assert.throws(() => multiplierPpb(1, options), bad('ERR_BAD_CURVE'), JSON.stringify(options))
      }
      assert.throws(() => contributionMultiplier(-1), EconomyError)
    })
  })

  describe('multiplierPpb()', () => {
    it('gives pinned known answers (any change to these is a consensus change)', () => {
      const vectors: Array<[number, bigint]> = [
        [0, 10_000_000_000n],
        [1, 9_999_991_000n],
        [100_000, 9_143_536_762n],
        [500_000, 6_458_775_937n],
        [1_000_000, 4_310_914_971n],
        [2_000_000, 2_218_017_549n],
        [5_000_000, 1_060_641_523n],
        [10_000_000, 1_000_408_599n],
        [50_000_000, 1_000_000_000n],
        [1e300, 1_000_000_000n]
      ]
      for (const [h, ppb] of vectors) assert.equal(multiplierPpb(h), ppb, `at ${h} hours`)
      assert.equal(multiplierPpb(25_000, { decay: 100_000 }), 8_009_207_048n)
    })

    it('agrees with Math.round(float · 1e9) to within 1 ppb', () => {
      check(fc.property(hours, curve, (h, c) => {
        const exact = multiplierPpb(h, c)
        const viaFloat = BigInt(Math.round(contributionMultiplier(h, c) * 1e9))
        const diff = exact > viaFloat ? exact - viaFloat : viaFloat - exact
        return diff <= 1n
      }), 500)
    })

    it('is non-increasing in hours, never below 1x, never above max', () => {
      check(fc.property(hours, hours, curve, (a, b, c) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a]
        const pLo = multiplierPpb(lo, c)
        const pHi = multiplierPpb(hi, c)
        return pLo >= pHi && pHi >= MULTIPLIER_SCALE && pLo <= BigInt(Math.round(c.max * 1e9))
      }), 500)
    })

    it('is non-increasing across the integer steps of its range reduction (x = H/D = n)', () => {
      for (let n = 1; n <= 50; n++) {
        const at = n * DEFAULT_DECAY_HOURS
        let previous = multiplierPpb(at - 1e-3)
        for (const h of [at - 1e-6, at - 1e-8, at, at + 1e-8, at + 1e-6, at + 1e-3]) {
          const p = multiplierPpb(h)
          assert.ok(p <= previous, `at ${h}`)
          previous = p
        }
      }
    })
  })

  describe('applyMultiplier()', () => {
    it('mints 10x at genesis and floor(base · 4.31...) at D', () => {
      assert.equal(applyMultiplier(1_000_000n, 0), 10_000_000n)
      assert.equal(applyMultiplier(1_000_000n, 1_000_000), 4_310_914n)
      assert.equal(applyMultiplier(0n, 0), 0n)
      assert.equal(applyMultiplier(7n, 1e12), 7n)
    })

    it('is within 1 micro of floor(base · float multiplier) for base <= 1e9 micro', () => {
      check(fc.property(fc.bigInt({ min: 0n, max: 1_000_000_000n }), hours, (base, h) => {
        const exact = applyMultiplier(base, h)
        const viaFloat = BigInt(Math.floor(Number(base) * contributionMultiplier(h)))
        const diff = exact > viaFloat ? exact - viaFloat : viaFloat - exact
        return diff <= 1n
      }), 500)
    })

    it('is monotone in the base and non-increasing in hours', () => {
      check(fc.property(fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.bigInt({ min: 0n, max: 10n ** 18n }), hours, hours, (a, b, h1, h2) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a]
        const [early, late] = h1 <= h2 ? [h1, h2] : [h2, h1]
        return applyMultiplier(lo, early) <= applyMultiplier(hi, early) &&
          applyMultiplier(hi, late) <= applyMultiplier(hi, early) &&
          applyMultiplier(hi, late) >= hi
      }))
    })

    it('rejects a negative or non-bigint base with ERR_BAD_MICRO_AMOUNT', () => {
      assert.throws(() => applyMultiplier(-1n, 0), bad('ERR_BAD_MICRO_AMOUNT'))
      assert.throws(() => applyMultiplier(5 as unknown as bigint, 0), bad('ERR_BAD_MICRO_AMOUNT'))
      assert.throws(() => applyMultiplier(5n, -1), bad('ERR_BAD_HOURS'))
    })
  })

  describe('getTiers() / getTierName()', () => {
    it("follows seed 001's stage table at the default decay", () => {
      const stages = getTiers()
      assert.deepEqual(stages.map(s => s.name), [...CURVE_STAGE_NAMES])
      assert.deepEqual(stages.map(s => s.fromHours), [0, 100_000, 500_000, 1_000_000, 5_000_000, 10_000_000])
      assert.deepEqual(stages.map(s => s.toHours), [100_000, 500_000, 1_000_000, 5_000_000, 10_000_000, null])
      assert.equal(stages[0]?.multiplier, 10)
      assert.equal(stages[3]?.multiplierPpb, 4_310_914_971n)
      for (const s of stages) assert.equal(s.multiplierPpb, multiplierPpb(s.fromHours))
    })

    it("reconciles seed 000's get_tier_name(25000) === 'Pioneer' at its decay of 100K", () => {
      assert.equal(getTierName(25_000, { decay: 100_000 }), 'Pioneer')
      assert.equal(getTierName(250_000), 'Pioneer')
      assert.equal(getTierName(25_000), 'Genesis')
    })

    it('names the boundaries inclusively', () => {
      assert.equal(getTierName(0), 'Genesis')
      assert.equal(getTierName(99_999.999), 'Genesis')
      assert.equal(getTierName(100_000), 'Pioneer')
      assert.equal(getTierName(500_000), 'Early')
      assert.equal(getTierName(1_000_000), 'Maturing')
      assert.equal(getTierName(5_000_000), 'Established')
      assert.equal(getTierName(10_000_000), 'Baseline')
      assert.equal(getTierName(1e15), 'Baseline')
    })

    it('agrees with the stage table for any hours and curve', () => {
      check(fc.property(hours, curve, (h, c) => {
        const stage = getTiers(c).find(s => h >= s.fromHours && (s.toHours === null || h < s.toHours))
        return stage?.name === getTierName(h, c)
      }))
    })

    it('rejects bad input', () => {
      assert.throws(() => getTierName(-5), bad('ERR_BAD_HOURS'))
      assert.throws(() => getTiers({ decay: 0 }), bad('ERR_BAD_CURVE'))
    })
  })
})
