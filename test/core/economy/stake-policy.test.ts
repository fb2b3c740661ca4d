import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  slashAmount, splitSlash, isSlashReason, SLASH_REASONS, SLASH_SEVERITY, SLASH_FRACTION_BPS,
  DEFAULT_MIN_STAKE, DEFAULT_STAKE_PER_CLAIM, DEFAULT_UNSTAKE_LOCK_MS, DEFAULT_REWARD_LOCK_MS,
  TRIAL_CREDITS, ECONOMY_ERROR_CODES, EconomyError, credits
} from '../../../src/core/economy/index.ts'
import type { SlashReason } from '../../../src/core/economy/index.ts'
import { EdgeNetError } from '../../../src/core/errors.ts'
import { check } from '../../helpers/property.ts'

const bad = (code: string) => ({ name: 'EconomyError', code })
const reasonArb = fc.constantFrom(...SLASH_REASONS)
const micro = fc.bigInt({ min: 0n, max: 10n ** 20n })
const ids = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 12 })

describe('economy', () => {
  describe('staking constants', () => {
    it('match the seeds', () => {
      assert.equal(DEFAULT_MIN_STAKE, credits(100))
      assert.equal(DEFAULT_STAKE_PER_CLAIM, credits(10))
      assert.equal(DEFAULT_REWARD_LOCK_MS, 3_600_000)
      assert.ok(DEFAULT_UNSTAKE_LOCK_MS >= DEFAULT_REWARD_LOCK_MS, 'stake must outlive the rewards it backs')
      assert.equal(TRIAL_CREDITS, credits(10))
      assert.ok(TRIAL_CREDITS < DEFAULT_MIN_STAKE, 'trial credits alone never reach a stake')
    })

    it("gives every reason seed 000's severity", () => {
      assert.deepEqual(SLASH_SEVERITY, {
        InvalidResult: 'Medium', DoubleSpend: 'High', SybilAttack: 'Critical', Downtime: 'Low', Spam: 'Medium', Malicious: 'Critical'
      })
      assert.ok(SLASH_FRACTION_BPS.Low < SLASH_FRACTION_BPS.Medium && SLASH_FRACTION_BPS.Medium < SLASH_FRACTION_BPS.High && SLASH_FRACTION_BPS.High < SLASH_FRACTION_BPS.Critical)
      assert.equal(SLASH_FRACTION_BPS.Critical, 10_000n)
    })
  })

  describe('slashAmount()', () => {
    it('takes 5 / 20 / 50 / 100 % by severity', () => {
      const stake = credits(100)
      assert.equal(slashAmount(stake, 'Downtime'), credits(5))
      assert.equal(slashAmount(stake, 'InvalidResult'), credits(20))
      assert.equal(slashAmount(stake, 'Spam'), credits(20))
      assert.equal(slashAmount(stake, 'DoubleSpend'), credits(50))
      assert.equal(slashAmount(stake, 'SybilAttack'), stake)
      assert.equal(slashAmount(stake, 'Malicious'), stake)
      assert.equal(slashAmount(19n, 'Downtime'), 0n) // floor(0.95)
      assert.equal(slashAmount(0n, 'Malicious'), 0n)
    })

    it('is never negative, never more than the stake, and monotone in the stake', () => {
      check(fc.property(micro, micro, reasonArb, (a, b, reason) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a]
        const s = slashAmount(hi, reason)
        return s >= 0n && s <= hi && slashAmount(lo, reason) <= s
      }))
    })

    it('rejects a bad stake or reason', () => {
      assert.throws(() => slashAmount(-1n, 'Spam'), bad('ERR_BAD_MICRO_AMOUNT'))
      assert.throws(() => slashAmount(100 as unknown as bigint, 'Spam'), bad('ERR_BAD_MICRO_AMOUNT'))
      assert.throws(() => slashAmount(100n, 'Rudeness' as SlashReason), bad('ERR_UNKNOWN_SLASH_REASON'))
      assert.throws(() => slashAmount(100n, 'hasOwnProperty' as SlashReason), bad('ERR_UNKNOWN_SLASH_REASON'))
      assert.equal(isSlashReason('Spam'), true)
      assert.equal(isSlashReason('toString'), false)
    })
  })

  describe('splitSlash()', () => {
    it('shares equally and burns the remainder', () => {
      const { shares, burned } = splitSlash(20_000_000n, ['w2', 'w1', 'w3'])
      assert.deepEqual([...shares], [['w1', 6_666_666n], ['w2', 6_666_666n], ['w3', 6_666_666n]])
      assert.equal(burned, 2n)
    })

    it('burns everything when nobody honest was there', () => {
      const { shares, burned } = splitSlash(123n, [])
      assert.equal(shares.size, 0)
      assert.equal(burned, 123n)
    })

    it('conserves the amount exactly: sum(shares) + burned === amount, nothing negative', () => {
      check(fc.property(micro, ids, (amount, coWorkers) => {
        const { shares, burned } = splitSlash(amount, coWorkers)
        let sum = 0n
        for (const share of shares.values()) { if (share < 0n) return false; sum += share }
        const values = [...shares.values()]
        const equal = values.every(v => v === values[0])
        const n = BigInt(coWorkers.length)
        return sum + burned === amount && burned >= 0n && equal && shares.size === coWorkers.length &&
          (n === 0n ? burned === amount : burned < n)
      }), 500)
    })

    it('does not depend on the order of the co-workers', () => {
      check(fc.property(micro, ids.chain(list => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length }))), (amount, [list, shuffled]) => {
        const a = splitSlash(amount, list)
        const b = splitSlash(amount, shuffled)
        assert.deepEqual([...a.shares], [...b.shares])
        assert.equal(a.burned, b.burned)
      }))
    })

    it('rejects duplicate or empty ids and bad amounts', () => {
      assert.throws(() => splitSlash(10n, ['a', 'a']), bad('ERR_BAD_CO_WORKERS'))
      assert.throws(() => splitSlash(10n, ['']), bad('ERR_BAD_CO_WORKERS'))
      assert.throws(() => splitSlash(10n, [3 as unknown as string]), bad('ERR_BAD_CO_WORKERS'))
      assert.throws(() => splitSlash(10n, 'ab' as unknown as string[]), bad('ERR_BAD_CO_WORKERS'))
      assert.throws(() => splitSlash(-10n, ['a']), bad('ERR_BAD_MICRO_AMOUNT'))
    })
  })

  describe('EconomyError', () => {
    it('is an EdgeNetError with a listed code', () => {
      let thrown: unknown
      try { slashAmount(-1n, 'Spam') } catch (err) { thrown = err }
      assert.ok(thrown instanceof EconomyError)
      assert.ok(thrown instanceof EdgeNetError)
      assert.equal(thrown.name, 'EconomyError')
      assert.ok(ECONOMY_ERROR_CODES.includes(thrown.code))
      assert.equal(new Set(ECONOMY_ERROR_CODES).size, ECONOMY_ERROR_CODES.length)
    })
  })
})
