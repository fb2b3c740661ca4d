import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { check, seed } from '../../helpers/property.ts'
import {
  MerkleSet, MerkleError, EMPTY_DIGEST, LEAF_MAX, ID_BYTES, prefixOf, MERKLE_ERROR_CODES
} from '../../../src/core/ledger/merkle.ts'
import { compareBytes, toHex } from '../../../src/core/bytes.ts'


/** mulberry32 bytes: ids for a seeded scenario. */
function randomIds (rngSeed: number, n: number, options: { shared?: number } = {}): Uint8Array[] {
  let a = rngSeed >>> 0
  const next = (): number => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  const out: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    const id = new Uint8Array(ID_BYTES)
    for (let k = 0; k < ID_BYTES; k += 4) new DataView(id.buffer).setUint32(k, next())
    // Half the ids share their first `shared` bytes, as ids ground by an attacker would.
    if (options.shared !== undefined && (next() & 1) === 1) id.fill(0xab, 0, options.shared)
    out.push(id)
  }
  return out
}

const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
const nibble = (id: Uint8Array, d: number): number => d % 2 === 0 ? (id[d >> 1] as number) >> 4 : (id[d >> 1] as number) & 15

/** The digest format written out again from its TSDoc, with node:crypto: the reference. */
function referenceDigest (ids: Uint8Array[], depth = 0): Uint8Array {
  const sorted = [...ids].sort(compareBytes)
  if (sorted.length <= LEAF_MAX) {
    const n = sorted.length
    return sha(new Uint8Array([0, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]), ...sorted)
  }
  let bitmap = 0
  const children: Uint8Array[] = []
  for (let c = 0; c < 16; c++) {
    const under = sorted.filter((id) => nibble(id, depth) === c)
    if (under.length === 0) continue
    bitmap |= 1 << c
    children.push(referenceDigest(under, depth + 1))
  }
  return sha(new Uint8Array([1, bitmap >> 8, bitmap & 255]), ...children)
}

const startsWith = (id: Uint8Array, prefix: Uint8Array): boolean => prefix.every((v, d) => nibble(id, d) === v)
const unique = (ids: Uint8Array[]): Uint8Array[] => [...new Map(ids.map((id) => [toHex(id), id])).values()]

const scenario = fc.record({
  rngSeed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  n: fc.integer({ min: 0, max: 1500 }),
  shared: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined })
})
const idsOf = (s: { rngSeed: number, n: number, shared: number | undefined }): Uint8Array[] =>
  randomIds(s.rngSeed, s.n, s.shared === undefined ? {} : { shared: s.shared })

describe('ledger', () => {
  describe('MerkleSet', () => {
    it('has the documented empty root', () => {
      assert.equal(toHex(EMPTY_DIGEST), '8855508aade16ec573d21e6a485dfd0a7624085c1a14b5ecdd6485de0c6839a4')
      assert.deepEqual(EMPTY_DIGEST, sha(new Uint8Array(5)))
      assert.equal(new MerkleSet().rootHex(), toHex(EMPTY_DIGEST))
      assert.equal(new MerkleSet().size, 0)
    })

    it('follows the documented digest format, leaf and inner (known answers from node:crypto)', () => {
      const one = randomIds(1, 1)
      assert.deepEqual(MerkleSet.from(one).root(), sha(new Uint8Array([0, 0, 0, 0, 1]), one[0] as Uint8Array))
      const many = randomIds(2, LEAF_MAX * 20)
      assert.equal(MerkleSet.from(many).rootHex(), toHex(referenceDigest(many)))
    })

    it('add() reports novelty; has() and size follow', () => {
      const [a, b] = randomIds(3, 2) as [Uint8Array, Uint8Array]
      const set = new MerkleSet()
      assert.equal(set.add(a), true)
      assert.equal(set.add(a.slice()), false)
      assert.equal(set.has(a), true)
      assert.equal(set.has(b), false)
      assert.equal(set.size, 1)
    })

    it('refuses a bad id or prefix with a typed error and stays unchanged', () => {
      assert.deepEqual([...MERKLE_ERROR_CODES], ['ERR_BAD_ID', 'ERR_BAD_PREFIX'])
      const set = MerkleSet.from(randomIds(4, 300))
      const root = set.rootHex()
      for (const id of [new Uint8Array(31), new Uint8Array(33), 'x', null, [1, 2]]) {
        assert.throws(() => set.add(id as Uint8Array), (err) => err instanceof MerkleError && err.code === 'ERR_BAD_ID' && err.name === 'MerkleError')
      }
      assert.throws(() => set.has(new Uint8Array(0)), { code: 'ERR_BAD_ID' })
      for (const p of [new Uint8Array([16]), new Uint8Array(65), [1]]) {
        assert.throws(() => set.digestOf(p as Uint8Array), { name: 'MerkleError', code: 'ERR_BAD_PREFIX' })
      }
      assert.throws(() => set.childrenOf(new Uint8Array(64)), { code: 'ERR_BAD_PREFIX' })
      assert.equal(set.size, 300)
      assert.equal(set.rootHex(), root)
    })

    it('has a root that depends only on the set: any insertion order, duplicates, roots read in between', () => {
      check(fc.property(scenario, fc.integer(), fc.integer({ min: 1, max: 400 }), (s, shuffleSeed, every) => {
        const ids = idsOf(s)
        const withDups = [...ids, ...ids.filter((_, i) => i % 3 === 0)]
        const shuffled = fc.sample(fc.shuffledSubarray(withDups, { minLength: withDups.length }), { seed: shuffleSeed, numRuns: 1 })[0] as Uint8Array[]
        const a = MerkleSet.from(ids)
        const b = new MerkleSet()
        shuffled.forEach((id, i) => { b.add(id); if (i % every === 0) b.root() })
        const expected = toHex(referenceDigest(unique(ids)))
        return a.rootHex() === expected && b.rootHex() === expected && a.size === unique(ids).length && b.size === a.size
      }), 30)
    })

    it('gives different roots to different sets (no collision in random trials)', () => {
      const roots = new Set<string>()
      const base = randomIds(5, 2000)
      const set = new MerkleSet()
      roots.add(set.rootHex())
      for (const id of base) { set.add(id); roots.add(set.rootHex()) }
      assert.equal(roots.size, base.length + 1)
      for (let s = 0; s < 50; s++) roots.add(MerkleSet.from(randomIds(1000 + s, 1 + s * 7, { shared: 4 })).rootHex())
      assert.equal(roots.size, base.length + 51)
    })

    it('gives each prefix the digest a freshly built set gives it, with consistent children', () => {
      check(fc.property(scenario, fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 6 }), (s, path) => {
        const ids = unique(idsOf(s))
        const set = MerkleSet.from(ids)
        set.root() // leave some digests cached, some not
        set.add(randomIds(s.rngSeed + 1, 1)[0] as Uint8Array)
        const all = [...set.ids()]
        const fresh = MerkleSet.from([...all].reverse())
        const prefixes: Uint8Array[] = [new Uint8Array(path)]
        if (all.length > 0) for (const len of [1, 2, 3, 4, 13]) prefixes.push(prefixOf(all[(s.n * 7) % all.length] as Uint8Array, len))
        for (const prefix of prefixes) {
          const under = all.filter((id) => startsWith(id, prefix))
          assert.deepEqual(set.digestOf(prefix), fresh.digestOf(prefix))
          assert.deepEqual(set.digestOf(prefix), referenceDigest(under, prefix.length))
          // A range small enough to be a leaf has the root of a set of just its ids.
          if (under.length <= LEAF_MAX) assert.deepEqual(set.digestOf(prefix), MerkleSet.from(under).root())
          assert.equal(set.countOf(prefix), under.length)
          assert.deepEqual(set.idsUnder(prefix), under)
          const { digests, counts } = set.childrenOf(prefix)
          assert.equal(counts.reduce((x, y) => x + y, 0), under.length)
          for (let c = 0; c < 16; c++) {
            const child = new Uint8Array([...prefix, c])
            assert.deepEqual(digests[c], set.digestOf(child))
            assert.equal(counts[c], set.countOf(child))
          }
        }
        return true
      }), 25)
    })

    it('lists ids in ascending order and copies them', () => {
      const ids = unique(randomIds(6, 3000, { shared: 3 }))
      const set = MerkleSet.from(ids)
      const listed = [...set.ids()]
      assert.deepEqual(listed, [...ids].sort(compareBytes))
      ;(listed[0] as Uint8Array)[0] = ((listed[0] as Uint8Array)[0] as number) ^ 1
      const root = set.root()
      root[0] = (root[0] as number) ^ 1
      assert.equal(set.rootHex(), toHex(referenceDigest(ids)))
    })

    it('splits deeply for ids that share a long prefix (ground ids) and stays correct', () => {
      const ids = randomIds(7, LEAF_MAX * 3).map((id) => { const x = id.slice(); x.fill(0x5a, 0, 10); return x })
      const set = MerkleSet.from(ids)
      assert.equal(set.rootHex(), toHex(referenceDigest(ids)))
      for (const id of ids) assert.equal(set.has(id), true)
      assert.equal(set.countOf(prefixOf(ids[0] as Uint8Array, 20)), ids.length)
    })

    it('recomputes only along dirty paths: the root stays right across every add near a split', () => {
      const ids = randomIds(8, LEAF_MAX + 40, { shared: 1 })
      const set = new MerkleSet()
      ids.forEach((id, i) => {
        set.add(id)
        if (i >= LEAF_MAX - 5) assert.equal(set.rootHex(), toHex(referenceDigest(ids.slice(0, i + 1))), `after ${i + 1} adds`)
      })
    })
  })
})
