import { describe, it, before } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { x25519 } from '@noble/curves/ed25519.js'
import { Identity, seal, open, SEAL_OVERHEAD, IdentityError } from '../../../src/core/identity/index.ts'
import { equalBytes, utf8 } from '../../../src/core/bytes.ts'
import { flipBit, hex, runs, withSeed } from './helpers.ts'

const isOpenFailed = (err: unknown): boolean =>
  err instanceof IdentityError && err.code === 'ERR_SEAL_OPEN_FAILED' && err.message === 'sealed payload did not open'
const net = { networkId: 'mainnet' }

/**
 * X25519 public keys of small order (RFC 7748 §6.1 / the libsodium blocklist): 0, 1, the two
 * points of order 8, p - 1, p, p + 1.
 */
const SMALL_ORDER_X25519 = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'
]

describe('identity', () => {
  describe('seal() / open()', () => {
    let alice: Identity
    let bob: Identity
    before(async () => {
      alice = await Identity.generate()
      bob = await Identity.generate()
    })

    it('round-trips, with a fresh ephemeral key and IV each time', async () => {
      const a = await seal(alice, utf8('secret'), net)
      const b = await seal(alice, utf8('secret'), net)
      assert.equal(a[0], 1)
      assert.equal(a.length, SEAL_OVERHEAD + 6)
      assert.ok(!equalBytes(a, b))
      assert.ok(!equalBytes(a.subarray(1, 33), b.subarray(1, 33)))
      assert.deepEqual(await open(alice, a, net), utf8('secret'))
      assert.deepEqual(await open(alice, b, net), utf8('secret'))
      assert.deepEqual(await open(alice, await seal(alice, new Uint8Array(0), net), net), new Uint8Array(0))
    })

    it('opens with an imported copy of the recipient identity', async () => {
      const copy = await Identity.import(await alice.export())
      assert.deepEqual(await open(copy, await seal(alice, utf8('x'), net), net), utf8('x'))
    })

    it('fails with the same error for another recipient, another network, truncation or another version', async () => {
      const sealed = await seal(alice, utf8('secret'), net)
      await assert.rejects(open(bob, sealed, net), isOpenFailed)
      await assert.rejects(open(alice, sealed, { networkId: 'testnet' }), isOpenFailed)
      for (const length of [0, 1, 33, SEAL_OVERHEAD - 1, SEAL_OVERHEAD, sealed.length - 1]) {
        await assert.rejects(open(alice, sealed.slice(0, length), net), isOpenFailed, `length ${length}`)
      }
      const v2 = sealed.slice()
      v2[0] = 2
      await assert.rejects(open(alice, v2, net), isOpenFailed)
      await assert.rejects(open(alice, 'x' as unknown as Uint8Array, net), isOpenFailed)
    })

    it('binds the recipient node id: sealing to alice\'s agreement key under bob\'s id does not open for alice', async () => {
      const misaddressed = await seal({ nodeId: bob.nodeId, agreementPublicKey: alice.agreementPublicKey }, utf8('x'), net)
      await assert.rejects(open(alice, misaddressed, net), isOpenFailed)
      await assert.rejects(open(bob, misaddressed, net), isOpenFailed)
    })

    it('refuses a small-order recipient key (all-zero shared secret) with ERR_BAD_AGREEMENT_KEY', async () => {
      for (const key of SMALL_ORDER_X25519) {
        await assert.rejects(seal({ nodeId: alice.nodeId, agreementPublicKey: hex(key) }, utf8('x'), net),
          (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_AGREEMENT_KEY', key)
      }
    })

    it('the small-order list really gives an all-zero secret (checked with @noble/curves)', () => {
      const secret = new Uint8Array(32).fill(0x42)
      for (const key of SMALL_ORDER_X25519) {
        let zero = false
        try { zero = x25519.getSharedSecret(secret, hex(key)).every((b) => b === 0) } catch { zero = true } // noble refuses it
        assert.ok(zero, key)
      }
    })

    it('fails to open a payload whose ephemeral key is of small order', async () => {
      const sealed = await seal(alice, utf8('x'), net)
      for (const key of SMALL_ORDER_X25519) {
        const forged = sealed.slice()
        forged.set(hex(key), 1)
        await assert.rejects(open(alice, forged, net), isOpenFailed, key)
      }
    })

    it('throws typed errors for malformed arguments', async () => {
      await assert.rejects(seal({ nodeId: 'enxyz', agreementPublicKey: alice.agreementPublicKey }, utf8('x'), net),
        (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_NODE_ID')
      await assert.rejects(seal({ nodeId: alice.nodeId, agreementPublicKey: new Uint8Array(31) }, utf8('x'), net),
        (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_AGREEMENT_KEY')
      await assert.rejects(seal(alice, utf8('x'), { networkId: '' }),
        (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_DOMAIN')
    })

    it('property: round-trips any plaintext', async () => {
      await withSeed(async () => {
        await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.string({ minLength: 1, maxLength: 20 }), async (plaintext, networkId) => {
          const sealed = await seal(bob, plaintext, { networkId })
          assert.equal(sealed.length, SEAL_OVERHEAD + plaintext.length)
          assert.ok(equalBytes(await open(bob, sealed, { networkId }), plaintext))
        }), runs(100))
      })
    })

    it('property: any single mutated byte fails to open', async () => {
      const plaintext = utf8('the payload of a task, end to end encrypted')
      const sealed = await seal(bob, plaintext, net)
      await withSeed(async () => {
        await fc.assert(fc.asyncProperty(fc.nat(sealed.length - 1), fc.integer({ min: 1, max: 255 }), async (index, xor) => {
          const mutated = sealed.slice()
          mutated[index] = (mutated[index] as number) ^ xor
          await assert.rejects(open(bob, mutated, net), isOpenFailed)
        }), runs(300))
      })
      // and every single bit, exhaustively
      for (let bit = 0; bit < sealed.length * 8; bit++) {
        await assert.rejects(open(bob, flipBit(sealed, bit), net), isOpenFailed, `bit ${bit}`)
      }
    })
  })
})
