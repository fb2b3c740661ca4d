import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { aesGcmEngineName, aesGcmOpen, aesGcmSeal } from '../../../src/core/identity/aes-gcm.ts'
import { hex, runs, toHex, withSeed } from './helpers.ts'

// McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 96-bit IV, with AAD).
const K = hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308')
const IV = hex('cafebabefacedbaddecaf888')
const P = hex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39')
const A = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2')
const C = '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662'
const T = '76fc6ece0f4e1768cddf8853bb2d551b'

describe('identity', () => {
  describe('AES-256-GCM (box engine)', () => {
    it('uses node:crypto under Node', () => {
      assert.equal(aesGcmEngineName(), 'node:crypto')
    })

    for (const which of [undefined, 'webcrypto'] as const) {
      const name = which ?? aesGcmEngineName()
      it(`${name}: matches McGrew-Viega test case 16, with room for a header in front`, async () => {
        assert.equal(toHex(await aesGcmSeal(K, IV, P, A, 0, which)), C + T)
        const headed = await aesGcmSeal(K, IV, P, A, 29, which)
        assert.equal(headed.length, 29 + P.length + 16)
        assert.equal(toHex(headed.subarray(29)), C + T)
        assert.equal(toHex(await aesGcmOpen(K, IV, hex(C + T), A, which)), toHex(P))
      })

      it(`${name}: refuses another AAD, a flipped bit, a short input`, async () => {
        const sealed = hex(C + T)
        await assert.rejects(aesGcmOpen(K, IV, sealed, new Uint8Array(0), which))
        for (const at of [0, sealed.length - 1]) {
          const m = sealed.slice()
          m[at] = (m[at] as number) ^ 1
          await assert.rejects(aesGcmOpen(K, IV, m, A, which))
        }
        await assert.rejects(aesGcmOpen(K, IV, sealed.subarray(0, 15), A, which))
      })
    }

    it('property: both engines compute the same function', async () => {
      await withSeed(async () => {
        await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }),
          fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 100 }), async (key, iv, plaintext, aad) => {
            const a = await aesGcmSeal(key, iv, plaintext, aad)
            assert.equal(toHex(await aesGcmSeal(key, iv, plaintext, aad, 0, 'webcrypto')), toHex(a))
            assert.equal(toHex(await aesGcmOpen(key, iv, a, aad, 'webcrypto')), toHex(plaintext))
            assert.equal(toHex(await aesGcmOpen(key, iv, a, aad)), toHex(plaintext))
          }), runs(100))
      })
    })
  })
})
