import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { sha256 } from '@noble/hashes/sha2.js'
import { sha256Once } from '../../../src/core/ledger/sha256.ts'
import { toHex, utf8 } from '../../../src/core/bytes.ts'
import { check } from '../../helpers/property.ts'

describe('ledger', () => {
  describe('sha256Once()', () => {
    it('matches the FIPS 180-2 examples', () => {
      assert.equal(toHex(sha256Once(utf8('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
      assert.equal(toHex(sha256Once(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1')
      assert.equal(toHex(sha256Once(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
      assert.equal(toHex(sha256Once(new Uint8Array(1_000_000).fill(0x61))), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0')
    })

    it('equals @noble/hashes at every length around the block and padding boundaries', () => {
      for (let n = 0; n <= 300; n++) {
        const m = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 255)
        assert.deepEqual(sha256Once(m), sha256(m), `length ${n}`)
      }
    })

    it('equals @noble/hashes on random messages, and on views into larger buffers', () => {
      check(fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(64), (m, pad) => {
        const big = new Uint8Array(pad + m.length + 7)
        big.set(m, pad)
        const view = big.subarray(pad, pad + m.length)
        assert.deepEqual(sha256Once(m), sha256(m))
        assert.deepEqual(sha256Once(view), sha256(m))
      }))
    })
  })
})
