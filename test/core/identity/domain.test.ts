import { describe, it, before } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  Identity, signedBytes, signMessage, verifyMessage, IdentityError
} from '../../../src/core/identity/index.ts'
import { equalBytes, toHex, utf8 } from '../../../src/core/bytes.ts'
import { runs, withSeed } from './helpers.ts'

const isBadDomain = (err: unknown): boolean => err instanceof IdentityError && err.code === 'ERR_BAD_DOMAIN'

describe('identity', () => {
  describe('signedBytes()', () => {
    it('is tag || 0x00 || u16be len || networkId || u16be len || messageType || payload', () => {
      const bytes = signedBytes('net', 'ev', new Uint8Array([0xaa, 0xbb]))
      assert.equal(toHex(bytes), toHex(utf8('edge-net/1')) + '00' + '0003' + toHex(utf8('net')) + '0002' + toHex(utf8('ev')) + 'aabb')
    })

    it('counts UTF-8 bytes, not characters', () => {
      const bytes = signedBytes('é', 't', new Uint8Array(0))
      assert.equal(toHex(bytes.subarray(11, 15)), '0002c3a9')
    })

    it('keeps bytes from moving between the fields', () => {
      assert.ok(!equalBytes(signedBytes('ab', 'c', new Uint8Array(0)), signedBytes('a', 'bc', new Uint8Array(0))))
      assert.ok(!equalBytes(signedBytes('a', 'b', utf8('c')), signedBytes('a', 'bc', new Uint8Array(0))))
    })

    it('throws ERR_BAD_DOMAIN for an empty or over-long network id or message type', () => {
      const ok = 'x'.repeat(255)
      assert.equal(signedBytes(ok, ok, new Uint8Array(0)).length, 10 + 1 + 2 + 255 + 2 + 255)
      for (const [n, t] of [['', 't'], ['n', ''], ['x'.repeat(256), 't'], ['n', 'x'.repeat(256)], ['é'.repeat(128), 't']] as const) {
        assert.throws(() => signedBytes(n, t, new Uint8Array(0)), isBadDomain)
      }
      assert.throws(() => signedBytes(42 as unknown as string, 't', new Uint8Array(0)), isBadDomain)
    })

    it('property: is injective in (networkId, messageType, payload)', () => {
      const field = fc.string({ minLength: 1, maxLength: 6 })
      withSeed(() => {
        fc.assert(fc.property(field, field, fc.uint8Array({ maxLength: 6 }), field, field, fc.uint8Array({ maxLength: 6 }),
          (n1, t1, p1, n2, t2, p2) => {
            const same = n1 === n2 && t1 === t2 && equalBytes(p1, p2)
            assert.equal(equalBytes(signedBytes(n1, t1, p1), signedBytes(n2, t2, p2)), same)
          }), runs(2000))
      })
    })
  })

  describe('signMessage() / verifyMessage()', () => {
    let me: Identity
    before(async () => { me = await Identity.generate() })

    it('verifies only under the same network id, message type and payload', async () => {
      const payload = utf8('transfer 5')
      const sig = await signMessage(me, 'ab', 'c', payload)
      assert.equal(await verifyMessage(me.publicKey, 'ab', 'c', payload, sig), true)
      assert.equal(await verifyMessage(me.publicKey, 'a', 'bc', payload, sig), false)
      assert.equal(await verifyMessage(me.publicKey, 'ab', 'c2', payload, sig), false)
      assert.equal(await verifyMessage(me.publicKey, 'testnet', 'c', payload, sig), false)
      assert.equal(await verifyMessage(me.publicKey, 'ab', 'c', utf8('transfer 6'), sig), false)
      // nor as a raw signature over the payload
      assert.equal(await verifyMessage(me.publicKey, 'ab', 'c', payload, await me.sign(payload)), false)
    })

    it('throws ERR_BAD_DOMAIN on a malformed domain, even for a good signature', async () => {
      const sig = await signMessage(me, 'n', 't', new Uint8Array(0))
      await assert.rejects(verifyMessage(me.publicKey, '', 't', new Uint8Array(0), sig), isBadDomain)
      await assert.rejects(signMessage(me, 'n', '', new Uint8Array(0)), isBadDomain)
    })

    it('property: a signature never verifies under another network id or message type', async () => {
      const field = fc.string({ minLength: 1, maxLength: 8 })
      await withSeed(async () => {
        await fc.assert(fc.asyncProperty(field, field, field, field, fc.uint8Array({ maxLength: 64 }), async (n1, t1, n2, t2, payload) => {
          const sig = await signMessage(me, n1, t1, payload)
          assert.equal(await verifyMessage(me.publicKey, n1, t1, payload, sig), true)
          assert.equal(await verifyMessage(me.publicKey, n2, t2, payload, sig), n1 === n2 && t1 === t2)
        }), runs(200))
      })
    })
  })
})
