import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { sha256 } from '@noble/hashes/sha2.js'
import {
  nodeIdFromPublicKey, publicKeyFromNodeId, isNodeId, NODE_ID_LENGTH, IdentityError
} from '../../../src/core/identity/index.ts'
import { concatBytes, equalBytes, toBase32, utf8 } from '../../../src/core/bytes.ts'
import { runs, withSeed } from './helpers.ts'

const isBadNodeId = (err: unknown): boolean => err instanceof IdentityError && err.code === 'ERR_BAD_NODE_ID'
const B32 = 'abcdefghijklmnopqrstuvwxyz234567'

describe('identity', () => {
  describe('nodeIdFromPublicKey()', () => {
    it('is "en" + base32(publicKey || SHA-256("edge-net/node-id" || publicKey)[0..4]), 60 chars', () => {
      const pk = new Uint8Array(32).map((_, i) => i)
      const expected = 'en' + toBase32(concatBytes(pk, sha256(concatBytes(utf8('edge-net/node-id'), pk)).subarray(0, 4)))
      assert.equal(nodeIdFromPublicKey(pk), expected)
      assert.equal(expected.length, 60)
      assert.equal(NODE_ID_LENGTH, 60)
      assert.match(expected, /^en[a-z2-7]{58}$/)
    })

    it('throws ERR_BAD_KEY_LENGTH for a key that is not 32 bytes', () => {
      assert.throws(() => nodeIdFromPublicKey(new Uint8Array(31)), (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_KEY_LENGTH')
    })

    it('property: round-trips through publicKeyFromNodeId', () => {
      withSeed(() => {
        fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (pk) => {
          const id = nodeIdFromPublicKey(pk)
          assert.ok(equalBytes(publicKeyFromNodeId(id), pk))
          assert.ok(isNodeId(id))
        }), runs(500))
      })
    })
  })

  describe('publicKeyFromNodeId()', () => {
    const id = nodeIdFromPublicKey(new Uint8Array(32).fill(7))

    it('rejects a bad prefix, length or character', () => {
      for (const bad of ['', 'en', 'xx' + id.slice(2), 'EN' + id.slice(2), id.slice(0, -1), id + 'a', id.toUpperCase(),
        id.slice(0, 10) + '0' + id.slice(11), id.slice(0, 10) + '1' + id.slice(11), id.slice(0, 10) + '=' + id.slice(11)]) {
        assert.throws(() => publicKeyFromNodeId(bad), isBadNodeId, JSON.stringify(bad))
        assert.equal(isNodeId(bad), false)
      }
    })

    it('rejects a non-zero spare bit in the last character (each key has one id)', () => {
      const last = B32.indexOf(id.at(-1)!)
      const twin = id.slice(0, -1) + B32[last ^ 1]!
      assert.throws(() => publicKeyFromNodeId(twin), isBadNodeId)
    })

    it('property: catches every single-character substitution and every adjacent swap', () => {
      withSeed(() => {
        fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(), fc.nat(31), (pk, at, delta) => {
          const good = nodeIdFromPublicKey(pk)
          const i = 2 + (at % 58)
          const replaced = B32[(B32.indexOf(good[i]!) + 1 + (delta % 31)) % 32]!
          const typo = good.slice(0, i) + replaced + good.slice(i + 1)
          assert.throws(() => publicKeyFromNodeId(typo), isBadNodeId, typo)
          const j = 2 + (at % 57)
          if (good[j] !== good[j + 1]) {
            const swapped = good.slice(0, j) + good[j + 1]! + good[j]! + good.slice(j + 2)
            assert.throws(() => publicKeyFromNodeId(swapped), isBadNodeId, swapped)
          }
        }), runs(1000))
      })
    })
  })
})
