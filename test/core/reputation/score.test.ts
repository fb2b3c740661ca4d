import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  ReputationScore, ReputationError, reputationTier, REPUTATION_TIERS, REPUTATION_ERROR_CODES
} from '../../../src/core/reputation/index.ts'
import { EdgeNetError } from '../../../src/core/errors.ts'
import { check } from '../../helpers/property.ts'

const bad = (code: string) => ({ name: 'ReputationError', code })
const CREDIT = 1_000_000n
const DAY = 86_400n
const unit = fc.double({ min: 0, max: 1, noNaN: true })
const count = fc.bigInt({ min: 0n, max: 1_000_000n })

/** The largest double below x. */
function below (x: number): number {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  view.setBigUint64(0, view.getBigUint64(0) - 1n)
  return view.getFloat64(0)
}

describe('reputation', () => {
  describe('ReputationScore', () => {
    it('gives a newcomer a neutral, non-zero score: accuracy 0.5, uptime 1, composite 0.25', () => {
      const fresh = ReputationScore.newcomer()
      assert.equal(fresh.accuracy(), 0.5)
      assert.equal(fresh.uptime(), 1)
      assert.equal(fresh.compositeScore(), 0.25)
      assert.equal(fresh.stakeWeight(), 1)
      assert.equal(fresh.selectionWeight(), 0.25)
      assert.equal(fresh.tierName(), 'Restricted')
      assert.equal(ReputationScore.newWithTracking(0n, 0n, 0n, 0n, 0n).compositeScore(), 0.25)
    })

    it("computes seed 000's tracking example with Laplace smoothing", () => {
      const rep = ReputationScore.newWithTracking(950n, 50n, 30n * DAY, 31n * DAY, 5000n * CREDIT)
      assert.equal(rep.accuracy(), 951 / 1002)
      assert.equal(rep.uptime(), (3600 + 30 * 86400) / (3600 + 31 * 86400))
      assert.ok(Math.abs(rep.compositeScore() - 0.8718) < 1e-4)
      assert.equal(rep.tierName(), 'Trusted')
      rep.recordSuccess()
      rep.recordFailure()
      assert.equal(rep.tasksCompleted(), 951n)
      assert.equal(rep.tasksFailed(), 51n)
      assert.equal(rep.accuracy(), 952 / 1004)
    })

    it('keeps a directly stated accuracy and uptime until outcomes are recorded', () => {
      const rep = new ReputationScore(0.95, 0.98, 1000n * CREDIT)
      assert.equal(rep.accuracy(), 0.95)
      assert.equal(rep.uptime(), 0.98)
      assert.equal(rep.compositeScore(), 0.95 * 0.95 * 0.98)
      rep.recordFailure()
      assert.ok(rep.accuracy() < 0.95 && rep.accuracy() > 0.85, 'one failure moves it, gradually')
      rep.recordUptime(0n, 3600n)
      assert.ok(rep.uptime() < 0.98)
    })

    it('moves accuracy up on success and down on failure', () => {
      check(fc.property(count, count, (completed, failed) => {
        const a = ReputationScore.newWithTracking(completed, failed, 0n, 0n, 0n)
        const before = a.accuracy()
        a.recordSuccess()
        const up = a.accuracy()
        a.recordFailure()
        a.recordFailure()
        return up > before && a.accuracy() < up && up <= 1 && a.accuracy() >= 0
      }))
    })

    it('places the tier boundaries inclusively: Elite 0.95, Trusted 0.85, Standard 0.70, Probation 0.50', () => {
      const cases: Array<[number, string, string]> = [[0.95, 'Elite', 'Trusted'], [0.85, 'Trusted', 'Standard'], [0.70, 'Standard', 'Probation'], [0.50, 'Probation', 'Restricted']]
      for (const [boundary, at, justBelow] of cases) {
        assert.equal(new ReputationScore(1, boundary, 0n).tierName(), at)
        assert.equal(new ReputationScore(1, below(boundary), 0n).tierName(), justBelow)
        assert.equal(reputationTier(boundary), at)
      }
      assert.equal(reputationTier(1), 'Elite')
      assert.equal(reputationTier(0), 'Restricted')
      assert.deepEqual(REPUTATION_TIERS.map(t => t.minScore), [0.95, 0.85, 0.70, 0.50, 0])
      assert.throws(() => reputationTier(1.01), bad('ERR_BAD_SCORE'))
      assert.throws(() => reputationTier(Number.NaN), bad('ERR_BAD_SCORE'))
    })

    it('weighs stake as 1 + 0.1·ln(1 + credits), outside the composite and the tier', () => {
      assert.equal(new ReputationScore(0.9, 1, 0n).stakeWeight(), 1)
      assert.ok(Math.abs(new ReputationScore(0.9, 1, CREDIT).stakeWeight() - (1 + 0.1 * Math.log(2))) < 1e-15)
      assert.ok(Math.abs(new ReputationScore(0.9, 1, 22_025n * CREDIT).stakeWeight() - 2) < 1e-5)
      check(fc.property(unit, unit, fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.bigInt({ min: 0n, max: 10n ** 18n }), (accuracy, uptime, s1, s2) => {
        const [lo, hi] = s1 <= s2 ? [s1, s2] : [s2, s1]
        const poor = new ReputationScore(accuracy, uptime, lo)
        const rich = new ReputationScore(accuracy, uptime, hi)
        return rich.compositeScore() === poor.compositeScore() && rich.tierName() === poor.tierName() &&
          rich.selectionWeight() >= poor.selectionWeight() && rich.stakeWeight() >= 1
      }))
    })

    it('lets track record dominate: accuracy <= 0.5 with up to 1e6 credits staked weighs less than accuracy, uptime >= 0.9 with none', () => {
      // Bound: poor composite <= 0.5² · 1 = 0.25, stake weight <= 1 + 0.1·ln(1 + 1e6) ≈ 2.382, product <= 0.596;
      // good composite >= 0.9² · 0.9 = 0.729.
      const poorAccuracy = fc.double({ min: 0, max: 0.5, noNaN: true })
      const high = fc.double({ min: 0.9, max: 1, noNaN: true })
      check(fc.property(poorAccuracy, unit, fc.bigInt({ min: 0n, max: 1_000_000n * CREDIT }), high, high, (pa, pu, stake, ga, gu) => {
        const staked = new ReputationScore(pa, pu, stake)
        const unstaked = new ReputationScore(ga, gu, 0n)
        return staked.selectionWeight() < unstaked.selectionWeight()
      }), 500)
      // The same through counted outcomes: at least as many failures as successes, against a 9-in-10 record.
      check(fc.property(count, count, fc.bigInt({ min: 0n, max: 1_000_000n * CREDIT }), fc.bigInt({ min: 10n, max: 100_000n }), (c, extra, stake, n) => {
        const staked = ReputationScore.newWithTracking(c, c + extra, 0n, 0n, stake)
        const record = ReputationScore.newWithTracking(9n * n, n, 0n, 0n, 0n)
        return staked.selectionWeight() < record.selectionWeight()
      }))
    })

    it('compares track records, not stakes, in isBetterThan()', () => {
      const modest = new ReputationScore(0.95, 1, 0n)
      const whale = new ReputationScore(0.9, 1, 10n ** 15n)
      assert.equal(modest.isBetterThan(whale), true)
      assert.equal(whale.isBetterThan(modest), false)
      assert.equal(modest.isBetterThan(new ReputationScore(0.95, 1, 0n)), false)
    })

    it('checks minimums', () => {
      const rep = new ReputationScore(0.92, 0.96, 3000n * CREDIT)
      assert.equal(rep.meetsMinimum(0.9, 0.95, 100n * CREDIT), true)
      assert.equal(rep.meetsMinimum(0.93, 0.95, 100n * CREDIT), false)
      assert.equal(rep.meetsMinimum(0.9, 0.97, 100n * CREDIT), false)
      assert.equal(rep.meetsMinimum(0.9, 0.95, 3001n * CREDIT), false)
      assert.throws(() => rep.meetsMinimum(2, 0.9, 0n), bad('ERR_BAD_ACCURACY'))
      assert.throws(() => rep.meetsMinimum(0.9, -1, 0n), bad('ERR_BAD_UPTIME'))
      assert.throws(() => rep.meetsMinimum(0.9, 0.9, -1n), bad('ERR_BAD_STAKE'))
    })

    it('round-trips through toJSON / JSON text / fromJSON', () => {
      check(fc.property(count, count, fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.nat({ max: 5 }), (c, f, a, b, stake, successes) => {
        const [up, total] = a <= b ? [a, b] : [b, a]
        const rep = ReputationScore.newWithTracking(c, f, up, total, stake)
        for (let i = 0; i < successes; i++) rep.recordSuccess()
        const back = ReputationScore.fromJSON(JSON.parse(JSON.stringify(rep)))
        assert.deepEqual(back.toJSON(), rep.toJSON())
        assert.equal(back.compositeScore(), rep.compositeScore())
        assert.equal(back.selectionWeight(), rep.selectionWeight())
      }))
      const direct = new ReputationScore(0.93, 0.97, 42n)
      assert.deepEqual(ReputationScore.fromJSON(direct.toJSON()).toJSON(), direct.toJSON())
      assert.equal(direct.withStake(7n).stake(), 7n)
      assert.equal(direct.stake(), 42n)
    })

    it('rejects JSON it cannot have written with ERR_BAD_REPUTATION_JSON', () => {
      const good = ReputationScore.newWithTracking(3n, 1n, 10n, 20n, 5n).toJSON()
      const mutants: unknown[] = [
        null, 42, {}, { ...good, v: 2 }, { ...good, tasksCompleted: '-1' }, { ...good, tasksFailed: '01' },
        { ...good, stake: 5 }, { ...good, uptimeSeconds: '30' }, { ...good, accuracyPrior: { mean: 1.5, weight: 2 } },
        { ...good, accuracyPrior: { mean: 0.5, weight: 0 } }, { ...good, uptimePrior: null }, { ...good, totalSeconds: '1e3' }
      ]
      for (const mutant of mutants) assert.throws(() => ReputationScore.fromJSON(mutant), bad('ERR_BAD_REPUTATION_JSON'), JSON.stringify(mutant))
    })

    it('validates its inputs with typed errors and leaves state unchanged', () => {
      for (const accuracy of [-0.01, 1.01, Number.NaN, Infinity]) assert.throws(() => new ReputationScore(accuracy, 1, 0n), bad('ERR_BAD_ACCURACY'))
      for (const uptime of [-0.01, 1.01, Number.NaN]) assert.throws(() => new ReputationScore(1, uptime, 0n), bad('ERR_BAD_UPTIME'))
      assert.throws(() => new ReputationScore(1, 1, -1n), bad('ERR_BAD_STAKE'))
      assert.throws(() => new ReputationScore(1, 1, 5 as unknown as bigint), bad('ERR_BAD_STAKE'))
      assert.throws(() => ReputationScore.newWithTracking(-1n, 0n, 0n, 0n, 0n), bad('ERR_BAD_TASK_COUNT'))
      assert.throws(() => ReputationScore.newWithTracking(0n, 1 as unknown as bigint, 0n, 0n, 0n), bad('ERR_BAD_TASK_COUNT'))
      assert.throws(() => ReputationScore.newWithTracking(0n, 0n, 11n, 10n, 0n), bad('ERR_BAD_UPTIME'))
      assert.throws(() => ReputationScore.newWithTracking(0n, 0n, -1n, 10n, 0n), bad('ERR_BAD_UPTIME'))
      const rep = ReputationScore.newcomer()
      const before = rep.toJSON()
      assert.throws(() => rep.recordUptime(5n, 4n), bad('ERR_BAD_UPTIME'))
      assert.throws(() => rep.withStake(-1n), bad('ERR_BAD_STAKE'))
      assert.deepEqual(rep.toJSON(), before)
    })

    it('throws ReputationError, an EdgeNetError with a listed code', () => {
      let thrown: unknown
      try { ReputationScore.newcomer(-5n) } catch (err) { thrown = err }
      assert.ok(thrown instanceof ReputationError)
      assert.ok(thrown instanceof EdgeNetError)
      assert.equal(thrown.name, 'ReputationError')
      assert.ok(REPUTATION_ERROR_CODES.includes(thrown.code))
    })
  })
})
