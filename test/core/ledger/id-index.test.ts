import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { IdIndex } from '../../../src/core/ledger/id-index.ts'
import { toKey } from '../../../src/core/bytes.ts'
import { prng, seedFromEnv } from '../../helpers/fixtures.ts'

describe('IdIndex', () => {
  it('maps ids and their keys to dense numbers through growth, including ids that share a prefix', () => {
    const seed = seedFromEnv()
    const rand = prng(seed)
    const index = new IdIndex()
    const ids: Uint8Array[] = []
    for (let n = 0; n < 5000; n++) {
      const id = Uint8Array.from({ length: 32 }, () => Math.floor(rand() * 256))
      if (n % 3 === 0) id.set([1, 2, 3, 4, 5, 6, 7, 8]) // a ground prefix: must still work
      ids.push(id)
      assert.equal(index.get(id), -1, `seed ${seed}`)
      assert.equal(index.add(id), n)
    }
    for (const [n, id] of ids.entries()) {
      assert.equal(index.get(id), n, `seed ${seed}`)
      assert.equal(index.getKey(toKey(id)), n)
      assert.deepEqual(index.idAt(n), id)
      assert.equal(index.keyAt(n), toKey(id))
    }
    const absent = new Uint8Array(32).fill(255)
    assert.equal(index.get(absent), -1)
    assert.equal(index.getKey(toKey(absent)), -1)
  })
})
