import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  priceTask, priceStorage, taskPrice, isTaskType, TASK_TYPES, TASK_PRICES, TASK_PRIORITIES,
  MIN_TASK_CHARGE, BYTES_PER_MB, MAX_STORAGE_BYTES, MAX_STORAGE_DAYS, credits
} from '../../../src/core/economy/index.ts'
import type { TaskType } from '../../../src/core/economy/index.ts'
import { check } from '../../helpers/property.ts'

const MB = BYTES_PER_MB
const bad = (code: string) => ({ name: 'EconomyError', code })

/** Seed 001 §5.1, read off the table: (type, size in its unit, price in credits). */
const TABLE: Array<[TaskType, number, string]> = [
  ['vector_search', 1000, '1'],
  ['vector_insert', 100, '0.5'],
  ['embedding', 100, '5'],
  ['semantic_match', 10, '1'],
  ['neural_inference', 1, '3'],
  ['encryption', MB, '0.1'],
  ['compression', MB, '0.2'],
  ['custom_wasm', 1_000_000_000, '1'],
  ['federated_round', 1, '9']
]

const typeArb = fc.constantFrom(...TASK_TYPES)
const storageBytes = fc.maxSafeNat().map(n => n % (MAX_STORAGE_BYTES + 1))

describe('economy', () => {
  describe('TASK_PRICES', () => {
    it('has one frozen row per task type', () => {
      assert.deepEqual(Object.keys(TASK_PRICES).sort(), [...TASK_TYPES].sort())
      assert.ok(Object.isFrozen(TASK_PRICES))
      for (const type of TASK_TYPES) assert.equal(TASK_PRICES[type].type, type)
      assert.equal(taskPrice('compression').label, '0.2 credit / MB')
      assert.equal(isTaskType('embedding'), true)
      assert.equal(isTaskType('toString'), false)
    })
  })

  describe('priceTask()', () => {
    it("charges seed 001 §5.1's price for each type", () => {
      for (const [type, size, price] of TABLE) {
        assert.equal(priceTask({ type, size }), credits(price), type)
        assert.equal(priceTask({ type, size, priority: 'normal' }), credits(price), type)
      }
      assert.equal(priceTask({ type: 'vector_search', size: 10_000 }), credits(10))
      assert.equal(priceTask({ type: 'embedding', size: 250 }), credits(12.5))
    })

    it('charges 2x for high priority and 1x for low, for every type and size', () => {
      check(fc.property(typeArb, fc.maxSafeNat(), (type, n) => {
        const size = n % (TASK_PRICES[type].maxSize + 1)
        const normal = priceTask({ type, size })
        return priceTask({ type, size, priority: 'high' }) === 2n * normal &&
          priceTask({ type, size, priority: 'low' }) === normal
      }))
      assert.equal(priceTask({ type: 'embedding', size: 100, priority: 'high' }), credits(10))
    })

    it('rounds up to a whole micro-credit', () => {
      assert.equal(priceTask({ type: 'encryption', size: MB + 1 }), 100_001n)
      assert.equal(priceTask({ type: 'compression', size: 3 * MB + 7 }), 600_002n)
      assert.equal(priceTask({ type: 'custom_wasm', size: 20_000_000_001 }), 20_000_001n)
    })

    it('charges at least MIN_TASK_CHARGE (times the priority factor)', () => {
      assert.equal(MIN_TASK_CHARGE, 10_000n)
      assert.equal(priceTask({ type: 'encryption', size: 1 }), MIN_TASK_CHARGE)
      assert.equal(priceTask({ type: 'vector_search', size: 0 }), MIN_TASK_CHARGE)
      assert.equal(priceTask({ type: 'vector_insert', size: 1, priority: 'high' }), 2n * MIN_TASK_CHARGE)
    })

    it('is the exact rational price rounded up, or the minimum, and monotone in size', () => {
      check(fc.property(typeArb, fc.maxSafeNat(), fc.maxSafeNat(), (type, a, b) => {
        const row = TASK_PRICES[type]
        const max = row.maxSize + 1
        const [lo, hi] = [a % max, b % max].sort((x, y) => x - y) as [number, number]
        const price = priceTask({ type, size: hi })
        const exactTimesUnits = BigInt(hi) * row.priceMicro // price · perUnits must cover this, by less than perUnits
        const roundedUp = price === MIN_TASK_CHARGE
          ? exactTimesUnits <= MIN_TASK_CHARGE * row.perUnits
          : price * row.perUnits >= exactTimesUnits && (price - 1n) * row.perUnits < exactTimesUnits
        return roundedUp && priceTask({ type, size: lo }) <= price
      }), 500)
    })

    it('rejects an unknown type with ERR_UNKNOWN_TASK_TYPE', () => {
      for (const type of ['mining', 'toString', '__proto__', '', 42]) {
        assert.throws(() => priceTask({ type: type as TaskType, size: 1 }), bad('ERR_UNKNOWN_TASK_TYPE'), String(type))
      }
    })

    it('rejects a bad size with ERR_BAD_TASK_SIZE', () => {
      for (const size of [-1, 1.5, Number.NaN, Infinity, 2 ** 53, '10' as unknown as number, 1e9 + 1]) {
        assert.throws(() => priceTask({ type: 'vector_search', size }), bad('ERR_BAD_TASK_SIZE'), String(size))
      }
      assert.equal(priceTask({ type: 'vector_search', size: 1e9 }), credits(1_000_000))
      assert.throws(() => priceTask({ type: 'federated_round', size: 10_001 }), bad('ERR_BAD_TASK_SIZE'))
    })

    it('rejects a bad priority with ERR_BAD_PRIORITY', () => {
      assert.deepEqual([...TASK_PRIORITIES], ['low', 'normal', 'high'])
      assert.throws(() => priceTask({ type: 'embedding', size: 1, priority: 'urgent' as 'high' }), bad('ERR_BAD_PRIORITY'))
      assert.throws(() => priceTask({ type: 'embedding', size: 1, priority: 'constructor' as 'high' }), bad('ERR_BAD_PRIORITY'))
    })
  })

  describe('priceStorage()', () => {
    it('charges 0.01 credit per MB per day, rounded up', () => {
      assert.equal(priceStorage(MB, 1), credits(0.01))
      assert.equal(priceStorage(MB, 30), credits(0.3))
      assert.equal(priceStorage(1024 * MB, 365), credits(3737.6))
      assert.equal(priceStorage(1, 1), 1n)
      assert.equal(priceStorage(0, 30), 0n)
      assert.equal(priceStorage(MB, 0), 0n)
    })

    it('is monotone in bytes and in days', () => {
      check(fc.property(storageBytes, storageBytes, fc.nat({ max: MAX_STORAGE_DAYS }), (a, b, days) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a]
        return priceStorage(lo, days) <= priceStorage(hi, days) &&
          (days === 0 || priceStorage(hi, days - 1) <= priceStorage(hi, days))
      }))
    })

    it('rejects bad sizes with ERR_BAD_STORAGE_SIZE', () => {
      for (const [bytes, days] of [[-1, 1], [1.5, 1], [Number.NaN, 1], [MAX_STORAGE_BYTES + 1, 1], [1, -1], [1, 0.5], [1, MAX_STORAGE_DAYS + 1], [1, Infinity]] as const) {
        assert.throws(() => priceStorage(bytes, days), bad('ERR_BAD_STORAGE_SIZE'), `${bytes} x ${days}`)
      }
    })
  })
})
