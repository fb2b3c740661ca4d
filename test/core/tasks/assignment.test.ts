import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { commitment, opens, selectWorkers, seedMatches } from '../../../src/core/tasks/index.ts'
import { sha256 } from '@noble/hashes/sha2.js'
import { NET, prng } from '../../helpers/fixtures.ts'
import { check } from '../../helpers/property.ts'

const key = (i: number): Uint8Array => new Uint8Array(32).fill(i)

describe('worker selection', () => {
  it('is deterministic in the seed, distinct, and never draws zero weights', () => {
    check(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 25 }), (seed, n, k) => {
      const candidates = Array.from({ length: n }, (_, i) => ({ worker: key(i + 1), weight: i % 4 === 0 ? 0 : 0.1 + (i % 3) }))
      const a = selectWorkers(seed, key(99), candidates, k)
      const b = selectWorkers(seed, key(99), [...candidates].reverse(), k)
      assert.deepEqual(a, b)
      assert.equal(new Set(a.map(x => x[0])).size, a.length)
      assert.ok(a.every(w => (w[0] as number - 1) % 4 !== 0))
      assert.equal(a.length, Math.min(k, candidates.filter(c => c.weight > 0).length))
    }))
  })

  it('favours heavier workers in proportion (Efraimidis–Spirakis)', () => {
    const random = prng(5)
    const counts: [number, number] = [0, 0]
    for (let t = 0; t < 4000; t++) {
      const seed = Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256))
      const [first] = selectWorkers(seed, key(1), [{ worker: key(10), weight: 3 }, { worker: key(20), weight: 1 }], 1)
      if (first?.[0] === 10) counts[0]++
      else counts[1]++
    }
    const share = (counts[0] as number) / 4000
    assert.ok(share > 0.71 && share < 0.79, `heavier worker drawn ${share} of the time, expected ~0.75`)
  })

  it('excludes workers already assigned', () => {
    const c = [1, 2, 3].map(i => ({ worker: key(i), weight: 1 }))
    const picked = selectWorkers(key(7), key(8), c, 3, [key(2)])
    assert.deepEqual(picked.map(p => p[0]).sort(), [1, 3])
  })

  it('checks the revealed seed against the commitment', () => {
    assert.ok(seedMatches(sha256(key(4)), key(4)))
    assert.ok(!seedMatches(sha256(key(4)), key(5)))
  })
})

describe('commitments', () => {
  it('bind the result, the nonce and the worker', () => {
    const c = commitment(NET, key(1), key(2), new Uint8Array([9]), key(3))
    assert.ok(opens(NET, key(1), key(2), c, new Uint8Array([9]), key(3)))
    assert.ok(!opens(NET, key(1), key(2), c, new Uint8Array([8]), key(3)), 'another result')
    assert.ok(!opens(NET, key(1), key(2), c, new Uint8Array([9]), key(4)), 'another nonce')
    assert.ok(!opens(NET, key(1), key(5), c, new Uint8Array([9]), key(3)), 'a copier cannot use another worker\'s commitment')
    assert.ok(!opens('other', key(1), key(2), c, new Uint8Array([9]), key(3)), 'another network')
  })
})
