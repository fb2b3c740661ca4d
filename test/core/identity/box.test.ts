import { describe, it, before } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { Identity, IdentityError, PairBox, PeerKeys, BOX_OVERHEAD, BOX_KEY_ID_LENGTH, signedBytes } from '../../../src/core/identity/index.ts'
import type { BoxPeer } from '../../../src/core/identity/index.ts'
import { encodeCanonical } from '../../../src/core/codec/index.ts'
import { concatBytes, equalBytes, utf8 } from '../../../src/core/bytes.ts'
import { flipBit, hex, runs, toHex, withSeed } from './helpers.ts'

const NET = 'mainnet'
const isOpenFailed = (err: unknown): boolean =>
  err instanceof IdentityError && err.code === 'ERR_SEAL_OPEN_FAILED' && err.message === 'sealed payload did not open'
const ctx = utf8('task/assign\u0000' + 'a'.repeat(32))

// RFC 7748 §6.1's X25519 key pairs (their shared secret is given there) and RFC 8032 §7.1's first
// two Ed25519 secret keys, so the vector below can be recomputed from published values.
const ALICE_X = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
const BOB_X = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')
const RFC7748_SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'
const ALICE_ED = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
const BOB_ED = hex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb')

async function fixedIdentity (edSeed: Uint8Array, xSecret: Uint8Array): Promise<Identity> {
  return await Identity.import(encodeCanonical({
    v: 1,
    sign: concatBytes(hex('302e020100300506032b657004220420'), edSeed),
    signPublic: ed25519.getPublicKey(edSeed),
    agree: concatBytes(hex('302e020100300506032b656e04220420'), xSecret),
    agreePublic: x25519.getPublicKey(xSecret)
  }))
}

/** A counter-based byte source: key ids and IVs are 0x01 0x02 ..., so boxes are reproducible. */
function counting (): (n: number) => Uint8Array {
  let next = 1
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff)
}

const peer = (id: Identity): BoxPeer => ({ publicKey: id.publicKey, agreementPublicKey: id.agreementPublicKey })

describe('identity', () => {
  describe('PairBox', () => {
    let alice: Identity
    let bob: Identity
    let carol: Identity
    before(async () => {
      alice = await fixedIdentity(ALICE_ED, ALICE_X)
      bob = await fixedIdentity(BOB_ED, BOB_X)
      carol = await Identity.generate()
    })

    it('round-trips both ways, with a fresh IV per message under one key id per peer', async () => {
      const a = new PairBox(alice, { networkId: NET })
      const b = new PairBox(bob, { networkId: NET })
      const m1 = await a.seal(peer(bob), utf8('payload'), ctx)
      const m2 = await a.seal(peer(bob), utf8('payload'), ctx)
      assert.equal(m1.length, BOX_OVERHEAD + 7)
      assert.ok(equalBytes(m1.subarray(1, 1 + BOX_KEY_ID_LENGTH), m2.subarray(1, 1 + BOX_KEY_ID_LENGTH)), 'one key id per peer')
      assert.ok(!equalBytes(m1.subarray(1 + BOX_KEY_ID_LENGTH, 29), m2.subarray(1 + BOX_KEY_ID_LENGTH, 29)), 'a fresh IV')
      assert.deepEqual(await b.open(peer(alice), m1, ctx), utf8('payload'))
      assert.deepEqual(await b.open(peer(alice), m2, ctx), utf8('payload'))
      const back = await b.seal(peer(alice), utf8('result'), ctx)
      assert.deepEqual(await a.open(peer(bob), back, ctx), utf8('result'))
      assert.deepEqual(await b.open(peer(alice), await a.seal(peer(bob), new Uint8Array(0), ctx), ctx), new Uint8Array(0))
    })

    it('never repeats an IV (500 boxes, across refills of its random pool)', async () => {
      const a = new PairBox(alice, { networkId: NET })
      const b = new PairBox(bob, { networkId: NET })
      const ivs = new Set<string>()
      for (let i = 0; i < 500; i++) {
        const boxed = await a.seal(peer(bob), utf8(`m${i}`), ctx)
        ivs.add(toHex(boxed.subarray(1 + BOX_KEY_ID_LENGTH, 29)))
        if (i % 97 === 0) assert.deepEqual(await b.open(peer(alice), boxed, ctx), utf8(`m${i}`))
      }
      assert.equal(ivs.size, 500)
    })

    it('matches a known answer recomputed from RFC 7748 / RFC 8032 keys with @noble (X25519, HKDF) and AES-GCM', async () => {
      assert.equal(toHex(x25519.getSharedSecret(ALICE_X, x25519.getPublicKey(BOB_X))), RFC7748_SHARED)
      const a = new PairBox(alice, { networkId: NET, randomBytes: counting() })
      const boxed = await a.seal(peer(bob), utf8('hello bob'), ctx)
      // The format recomputed independently: the key from noble's HKDF over the RFC's shared secret.
      const keyId = boxed.subarray(1, 17)
      const iv = boxed.subarray(17, 29)
      assert.equal(toHex(keyId), '0102030405060708090a0b0c0d0e0f10')
      assert.equal(toHex(iv), '1112131415161718191a1b1c')
      const info = signedBytes(NET, 'box/1', concatBytes(alice.publicKey, alice.agreementPublicKey, bob.publicKey, bob.agreementPublicKey))
      const rawKey = hkdf(sha256, hex(RFC7748_SHARED), keyId, info, 32)
      const aad = signedBytes(NET, 'box/1/aad', concatBytes(boxed.subarray(0, 17), alice.publicKey, bob.publicKey, ctx))
      const key = await crypto.subtle.importKey('raw', rawKey, 'AES-GCM', false, ['encrypt'])
      const expected = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, utf8('hello bob')))
      assert.equal(toHex(boxed.subarray(29)), toHex(expected))
      // Pinned, so a change of format shows up as a change of this vector.
      assert.equal(toHex(boxed), KNOWN_ANSWER)
    })

    it('fails with one error for another sender, recipient, context, network, version or a reflection', async () => {
      const a = new PairBox(alice, { networkId: NET })
      const b = new PairBox(bob, { networkId: NET })
      const c = new PairBox(carol, { networkId: NET })
      const boxed = await a.seal(peer(bob), utf8('secret'), ctx)
      await assert.rejects(b.open(peer(carol), boxed, ctx), isOpenFailed)
      await assert.rejects(c.open(peer(alice), boxed, ctx), isOpenFailed)
      await assert.rejects(b.open(peer(alice), boxed, utf8('task/reveal')), isOpenFailed)
      await assert.rejects(new PairBox(bob, { networkId: 'testnet' }).open(peer(alice), boxed, ctx), isOpenFailed)
      // Alice's own message handed back to her as if bob had sent it: the key is one-way.
      await assert.rejects(a.open(peer(bob), boxed, ctx), isOpenFailed)
      const v2 = boxed.slice()
      v2[0] = 2
      await assert.rejects(b.open(peer(alice), v2, ctx), isOpenFailed)
      for (const length of [0, 1, 17, BOX_OVERHEAD - 1, BOX_OVERHEAD, boxed.length - 1]) {
        await assert.rejects(b.open(peer(alice), boxed.slice(0, length), ctx), isOpenFailed, `length ${length}`)
      }
      // Alice's Ed25519 key with Carol's agreement key (a splice): another key, another AAD.
      await assert.rejects(b.open({ publicKey: alice.publicKey, agreementPublicKey: carol.agreementPublicKey }, boxed, ctx), isOpenFailed)
      // Still opens afterwards: nothing above poisoned the caches.
      assert.deepEqual(await b.open(peer(alice), boxed, ctx), utf8('secret'))
    })

    it('draws a fresh key id after maxMessagesPerKey and on a restart; the receiver opens under each', async () => {
      const a = new PairBox(alice, { networkId: NET, maxMessagesPerKey: 2 })
      const b = new PairBox(bob, { networkId: NET })
      const ids = new Set<string>()
      for (let i = 0; i < 5; i++) {
        const boxed = await a.seal(peer(bob), utf8(`m${i}`), ctx)
        ids.add(toHex(boxed.subarray(1, 17)))
        assert.deepEqual(await b.open(peer(alice), boxed, ctx), utf8(`m${i}`))
      }
      assert.equal(ids.size, 3)
      const restarted = new PairBox(alice, { networkId: NET })
      const boxed = await restarted.seal(peer(bob), utf8('again'), ctx)
      assert.ok(!ids.has(toHex(boxed.subarray(1, 17))))
      assert.deepEqual(await b.open(peer(alice), boxed, ctx), utf8('again'))
    })

    it('keeps working past its peer bound (keys are derived again)', async () => {
      const others = await Promise.all([1, 2, 3].map(async () => await Identity.generate()))
      const a = new PairBox(alice, { networkId: NET, maxPeers: 1 })
      const boxes = others.map(o => new PairBox(o, { networkId: NET, maxPeers: 1 }))
      for (let round = 0; round < 2; round++) {
        for (const [i, o] of others.entries()) {
          const boxed = await a.seal(peer(o), utf8(`to ${i}`), ctx)
          assert.deepEqual(await (boxes[i] as PairBox).open(peer(alice), boxed, ctx), utf8(`to ${i}`))
          const back = await (boxes[i] as PairBox).seal(peer(alice), utf8(`from ${i}`), ctx)
          assert.deepEqual(await a.open(peer(o), back, ctx), utf8(`from ${i}`))
        }
      }
    })

    it('refuses small-order and malformed peer keys with typed errors', async () => {
      const a = new PairBox(alice, { networkId: NET })
      const zero = { publicKey: bob.publicKey, agreementPublicKey: new Uint8Array(32) }
      const code = (c: string) => (err: unknown): boolean => err instanceof IdentityError && err.code === c
      await assert.rejects(a.seal(zero, utf8('x'), ctx), code('ERR_BAD_AGREEMENT_KEY'))
      await assert.rejects(a.open(zero, new Uint8Array(BOX_OVERHEAD + 4).fill(1), ctx), isOpenFailed)
      await assert.rejects(a.seal({ publicKey: bob.publicKey, agreementPublicKey: new Uint8Array(31) }, utf8('x'), ctx), code('ERR_BAD_AGREEMENT_KEY'))
      await assert.rejects(a.seal({ publicKey: new Uint8Array(31), agreementPublicKey: bob.agreementPublicKey }, utf8('x'), ctx), code('ERR_BAD_KEY_LENGTH'))
      assert.throws(() => new PairBox(alice, { networkId: '' }), code('ERR_BAD_DOMAIN'))
    })

    it('signs its binding once, and the binding verifies', async () => {
      const a = new PairBox(carol, { networkId: NET })
      const first = await a.binding()
      assert.equal(await a.binding(), first)
      const keys = new PeerKeys({ networkId: NET })
      assert.equal(await keys.learn(carol.publicKey, carol.agreementPublicKey, first), true)
    })

    it('property: round-trips any plaintext and context', async () => {
      const a = new PairBox(alice, { networkId: NET })
      const b = new PairBox(bob, { networkId: NET })
      await withSeed(async () => {
        await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.uint8Array({ maxLength: 64 }), async (plaintext, context) => {
          const boxed = await a.seal(peer(bob), plaintext, context)
          assert.equal(boxed.length, BOX_OVERHEAD + plaintext.length)
          assert.ok(equalBytes(await b.open(peer(alice), boxed, context), plaintext))
        }), runs(100))
      })
    })

    it('property: any mutated byte, and every flipped bit, fails to open', async () => {
      const a = new PairBox(alice, { networkId: NET })
      const b = new PairBox(bob, { networkId: NET })
      const boxed = await a.seal(peer(bob), utf8('the payload of a task'), ctx)
      await withSeed(async () => {
        await fc.assert(fc.asyncProperty(fc.nat(boxed.length - 1), fc.integer({ min: 1, max: 255 }), async (index, xor) => {
          const mutated = boxed.slice()
          mutated[index] = (mutated[index] as number) ^ xor
          await assert.rejects(b.open(peer(alice), mutated, ctx), isOpenFailed)
        }), runs(200))
      })
      for (let bit = 0; bit < boxed.length * 8; bit++) {
        await assert.rejects(b.open(peer(alice), flipBit(boxed, bit), ctx), isOpenFailed, `bit ${bit}`)
      }
    })
  })

  describe('PeerKeys', () => {
    let alice: Identity
    let bob: Identity
    before(async () => {
      alice = await Identity.generate()
      bob = await Identity.generate()
    })

    it('learns a bound key, refuses a forged or foreign binding, and remembers what it verified', async () => {
      const keys = new PeerKeys({ networkId: NET })
      const binding = await alice.bindingSignature(NET)
      assert.equal(await keys.learn(alice.publicKey, bob.agreementPublicKey, binding), false)
      assert.equal(await keys.learn(alice.publicKey, alice.agreementPublicKey, await alice.bindingSignature('testnet')), false)
      assert.equal(keys.get(alice.publicKey), undefined)
      assert.equal(await keys.learn(alice.publicKey, alice.agreementPublicKey, binding), true)
      assert.deepEqual(keys.get(alice.publicKey), alice.agreementPublicKey)
      // Known: no second verification (a garbage signature is not even looked at).
      assert.equal(await keys.learn(alice.publicKey, alice.agreementPublicKey, new Uint8Array(64)), true)
      // Another key for the same peer is verified again.
      assert.equal(await keys.learn(alice.publicKey, bob.agreementPublicKey, new Uint8Array(64)), false)
      assert.deepEqual(keys.get(alice.publicKey), alice.agreementPublicKey)
    })

    it('forgets the least recently used peer past its bound', async () => {
      const keys = new PeerKeys({ networkId: NET, maxPeers: 1 })
      assert.equal(await keys.learn(alice.publicKey, alice.agreementPublicKey, await alice.bindingSignature(NET)), true)
      assert.equal(await keys.learn(bob.publicKey, bob.agreementPublicKey, await bob.bindingSignature(NET)), true)
      assert.equal(keys.size, 1)
      assert.equal(keys.get(alice.publicKey), undefined)
      assert.equal(await keys.learn(alice.publicKey, alice.agreementPublicKey, new Uint8Array(64)), false)
    })

    it('throws a typed error for a malformed key', async () => {
      const keys = new PeerKeys({ networkId: NET })
      await assert.rejects(keys.learn(alice.publicKey, new Uint8Array(5), new Uint8Array(64)),
        (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_AGREEMENT_KEY')
    })
  })
})

const KNOWN_ANSWER = '010102030405060708090a0b0c0d0e0f101112131415161718191a1b1c99c368c4a5a8b60d504cbfbff51527f07a25771d826d45f627'
