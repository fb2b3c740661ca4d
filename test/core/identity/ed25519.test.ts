import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js'
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js'
import { sha512 } from '@noble/hashes/sha2.js'
import {
  verifyEd25519, isCanonicalPoint, isSmallOrderPoint, isCanonicalScalar, IdentityError
} from '../../../src/core/identity/index.ts'
import { concatBytes, utf8 } from '../../../src/core/bytes.ts'
import { flipBit, hex, runs, toHex, withSeed } from './helpers.ts'

const Point = ed25519.Point
const B = Point.BASE
const L = Point.Fn.ORDER
const P = 2n ** 255n - 19n

/** RFC 8032 §7.1, TEST 1, TEST 2, TEST 3 and TEST SHA(abc) (secret key, public key, message, signature). */
const RFC8032_VECTORS = [
  {
    name: 'TEST 1 (empty message)',
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
  },
  {
    name: 'TEST 2 (one byte)',
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'
  },
  {
    name: 'TEST 3 (two bytes)',
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'
  },
  {
    name: 'TEST SHA(abc) (64-byte message)',
    secret: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    publicKey: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    message: 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    signature: 'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704'
  }
] as const

const le32 = (n: bigint): Uint8Array => numberToBytesLE(n, 32)
/** h = SHA-512(R || A || M) mod L (RFC 8032 §5.1.7 step 2), over the bytes as given. */
const challenge = (R: Uint8Array, A: Uint8Array, M: Uint8Array): bigint => bytesToNumberLE(sha512(concatBytes(R, A, M))) % L
/** The plain (cofactorless) equation S·B = R + h·A, decoding leniently as a permissive verifier would. */
function lenientlyValid (A: Uint8Array, M: Uint8Array, sig: Uint8Array): boolean {
  const R = sig.subarray(0, 32)
  const S = bytesToNumberLE(sig.subarray(32))
  const h = challenge(R, A, M)
  const left = S % L === 0n ? Point.ZERO : B.multiply(S % L)
  return left.equals(Point.fromBytes(R, true).add(Point.fromBytes(A, true).multiplyUnsafe(h)))
}
/** y (sign bit cleared) as a 32-byte little-endian encoding with the given sign bit. */
const encodeY = (y: bigint, sign: 0 | 1): Uint8Array => {
  const out = le32(y)
  out[31] = (out[31] as number) | (sign << 7)
  return out
}

const TEST1 = RFC8032_VECTORS[0]
const secretScalar = (secret: string): bigint => ed25519.utils.getExtendedPublicKey(hex(secret)).scalar

/** The first y in [p + 2, p + 18] that is on the curve, spelled non-canonically. */
function nonCanonicalLargeOrder (): Uint8Array {
  for (let y = P + 2n; y < 2n ** 255n; y++) {
    const bytes = encodeY(y, 0)
    try {
      if (!Point.fromBytes(bytes, true).isSmallOrder()) return bytes
    } catch {}
  }
  throw new Error('none found')
}

interface CraftedCase { name: string, A: Uint8Array, M: Uint8Array, sig: Uint8Array }

/**
 * Signatures in the spirit of "Taming the many EdDSAs" (Chalkias et al. 2020), built here from
 * valid ones rather than copied, each valid under the plain equation with lenient decoding.
 */
function craftedCases (): CraftedCase[] {
  const out: CraftedCase[] = []
  const A1 = hex(TEST1.publicKey)
  const a1 = secretScalar(TEST1.secret)
  // S + L: the malleated twin of RFC 8032 TEST 1.
  const sig1 = hex(TEST1.signature)
  out.push({ name: 'S + L', A: A1, M: hex(TEST1.message), sig: concatBytes(sig1.subarray(0, 32), le32(bytesToNumberLE(sig1.subarray(32)) + L)) })
  // Small-order A: h·A is in the 8-torsion, so S = r, R = r·B verifies for every message with
  // h·A = O: a signature made without any secret. Two messages per torsion point.
  for (const aHex of ED25519_TORSION_SUBGROUP) {
    const A = hex(aHex)
    let found = 0
    for (let i = 0; found < 2 && i < 500; i++) {
      const M = utf8(`message ${i}`)
      const r = 1000n + BigInt(i)
      const R = B.multiply(r).toBytes()
      if (!Point.fromBytes(A).multiplyUnsafe(challenge(R, A, M)).is0()) continue
      out.push({ name: `small-order A ${aHex} #${found}`, A, M, sig: concatBytes(R, le32(r)) })
      found++
    }
    if (found !== 2) throw new Error(`no message found for ${aHex}`)
  }
  // Small-order R under an honest key: R = O, S = h·a.
  {
    const M = utf8('pay 100 to mallory')
    const R = Point.ZERO.toBytes()
    out.push({ name: 'small-order R = identity, honest A', A: A1, M, sig: concatBytes(R, le32((challenge(R, A1, M) * a1) % L)) })
  }
  // Small-order R of order 2 under a mixed-order key A = a·B + T2: for odd h, R = T2, S = h·a.
  {
    const T2 = Point.fromBytes(hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'))
    const A = B.multiply(a1).add(T2).toBytes()
    const R = T2.toBytes()
    let M = utf8('m0')
    for (let i = 1; challenge(R, A, M) % 2n === 0n; i++) M = utf8(`m${i}`)
    out.push({ name: 'small-order R of order 2, mixed-order A', A, M, sig: concatBytes(R, le32((challenge(R, A, M) * a1) % L)) })
  }
  // Non-canonical A: y = p + 1, and x = 0 with the sign bit; both spell the identity, so h·A = O.
  for (const A of [encodeY(P + 1n, 0), encodeY(1n, 1)]) {
    out.push({ name: `non-canonical A ${toHex(A)}`, A, M: utf8('anything'), sig: concatBytes(B.multiply(77n).toBytes(), le32(77n)) })
  }
  // Non-canonical R under an honest key: the identity spelled y = p + 1, or with the sign bit.
  for (const R of [encodeY(P + 1n, 0), encodeY(1n, 1)]) {
    const M = utf8('replayed under another encoding')
    out.push({ name: `non-canonical R ${toHex(R)}`, A: A1, M, sig: concatBytes(R, le32((challenge(R, A1, M) * a1) % L)) })
  }
  return out
}

describe('identity', () => {
  describe('verifyEd25519()', () => {
    for (const v of RFC8032_VECTORS) {
      it(`accepts RFC 8032 §7.1 ${v.name}`, async () => {
        assert.equal(await verifyEd25519(hex(v.publicKey), hex(v.message), hex(v.signature)), true)
      })
      it(`WebCrypto signing reproduces RFC 8032 §7.1 ${v.name}`, async () => {
        // Ed25519 PKCS#8 (RFC 8410 §7): a fixed 16-byte header, then the 32-byte secret.
        const pkcs8 = concatBytes(hex('302e020100300506032b657004220420'), hex(v.secret))
        const key = await crypto.subtle.importKey('pkcs8', pkcs8 as Uint8Array<ArrayBuffer>, 'Ed25519', false, ['sign'])
        const sig = new Uint8Array(await crypto.subtle.sign('Ed25519', key, hex(v.message) as Uint8Array<ArrayBuffer>))
        assert.equal(toHex(sig), v.signature)
      })
    }

    it('rejects a mutated message, a flipped signature bit and another key', async () => {
      const [v1, v2] = [RFC8032_VECTORS[1], RFC8032_VECTORS[2]]
      assert.equal(await verifyEd25519(hex(v1.publicKey), hex('73'), hex(v1.signature)), false)
      assert.equal(await verifyEd25519(hex(v1.publicKey), hex(v1.message), flipBit(hex(v1.signature), 5)), false)
      assert.equal(await verifyEd25519(hex(v1.publicKey), hex(v1.message), flipBit(hex(v1.signature), 300)), false)
      assert.equal(await verifyEd25519(hex(v2.publicKey), hex(v1.message), hex(v1.signature)), false)
    })

    it('rejects S >= L (RFC 8032 §5.1.7 step 1), checked by isCanonicalScalar', () => {
      assert.equal(isCanonicalScalar(new Uint8Array(32).fill(0xff)), false)
      assert.equal(isCanonicalScalar(le32(L)), false)
      assert.equal(isCanonicalScalar(le32(L + 1n)), false)
      assert.equal(isCanonicalScalar(le32(L - 1n)), true)
      assert.equal(isCanonicalScalar(le32(0n)), true)
      assert.equal(isCanonicalScalar(le32(2n ** 252n)), true)
    })

    // Each case satisfies the plain equation S·B = R + h·A under lenient decoding, so a permissive
    // verifier accepts it. It must be rejected by the platform's WebCrypto as we call it, and also
    // by our own checks alone: the second run swaps in a WebCrypto verify that accepts anything
    // (as a lenient platform would), so this test fails if a check of ours is missing even where
    // the local OpenSSL happens to catch the case.
    const cases = craftedCases()
    it('the crafted cases satisfy the plain verification equation (so they test something)', () => {
      assert.ok(cases.length >= 20)
      for (const c of cases) assert.ok(lenientlyValid(c.A, c.M, c.sig), c.name)
    })
    for (const permissive of [false, true]) {
      it(`rejects S + L, small-order A, small-order R, non-canonical A and R${permissive ? ' (with a WebCrypto that accepts anything)' : ''}`, async (t) => {
        if (permissive) t.mock.method(crypto.subtle, 'verify', async () => true)
        for (const c of cases) assert.equal(await verifyEd25519(c.A, c.M, c.sig), false, c.name)
        if (permissive) {
          // the control: the mock is in effect, so a merely wrong (but well-formed) signature passes
          assert.equal(await verifyEd25519(hex(TEST1.publicKey), utf8('x'), hex(TEST1.signature)), true)
          // non-canonical spellings of points of large order, as A and as R (cannot be forged into
          // a lenient-valid signature without a discrete log, so only the permissive run sees them)
          const odd = nonCanonicalLargeOrder()
          assert.equal(await verifyEd25519(odd, utf8('x'), hex(TEST1.signature)), false)
          assert.equal(await verifyEd25519(hex(TEST1.publicKey), utf8('x'), concatBytes(odd, hex(TEST1.signature).subarray(32))), false)
        }
      })
    }

    it('returns false for a key that is not a curve point', async () => {
      let A: Uint8Array = new Uint8Array(32)
      for (let i = 2n; ; i++) {
        A = encodeY(i, 0)
        try { Point.fromBytes(A) } catch { break }
      }
      assert.equal(await verifyEd25519(A, utf8('m'), hex(TEST1.signature)), false)
    })

    it('throws typed errors only for wrong lengths', async () => {
      const sig = hex(TEST1.signature)
      const pk = hex(TEST1.publicKey)
      for (const bad of [pk.subarray(0, 31), concatBytes(pk, new Uint8Array(1)), new Uint8Array(0)]) {
        await assert.rejects(verifyEd25519(bad, new Uint8Array(0), sig),
          (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_KEY_LENGTH')
      }
      for (const bad of [sig.subarray(0, 63), concatBytes(sig, new Uint8Array(1))]) {
        await assert.rejects(verifyEd25519(pk, new Uint8Array(0), bad),
          (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_SIGNATURE_LENGTH')
      }
    })

    it('verifies the same key many times concurrently, and more keys than the cache holds', async () => {
      const pairs = await Promise.all(Array.from({ length: 4200 }, async () =>
        await crypto.subtle.generateKey('Ed25519', true, ['sign', 'verify']) as unknown as { privateKey: Parameters<typeof crypto.subtle.sign>[1], publicKey: Parameters<typeof crypto.subtle.sign>[1] }))
      const M = utf8('cache')
      const signed = await Promise.all(pairs.map(async (p) => ({
        pk: new Uint8Array(await crypto.subtle.exportKey('raw', p.publicKey)),
        sig: new Uint8Array(await crypto.subtle.sign('Ed25519', p.privateKey, M))
      })))
      const first = signed[0]!
      const burst = await Promise.all(Array.from({ length: 64 }, async () => await verifyEd25519(first.pk, M, first.sig)))
      assert.deepEqual(burst, Array(64).fill(true))
      for (const s of signed) assert.equal(await verifyEd25519(s.pk, M, s.sig), true)
      // The first keys were evicted; they must be re-imported, not confused with others.
      assert.equal(await verifyEd25519(first.pk, M, first.sig), true)
      assert.equal(await verifyEd25519(first.pk, M, signed[1]!.sig), false)
    })

    it('property: accepts what noble signs and WebCrypto signs; any one-bit flip is rejected', async () => {
      const me = await crypto.subtle.generateKey('Ed25519', true, ['sign', 'verify']) as unknown as { privateKey: Parameters<typeof crypto.subtle.sign>[1], publicKey: Parameters<typeof crypto.subtle.sign>[1] }
      const myPk = new Uint8Array(await crypto.subtle.exportKey('raw', me.publicKey))
      await withSeed(async () => {
        await fc.assert(fc.asyncProperty(
          fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.constantFrom('message', 'signature', 'key'),
          async (secret, message, bit, where) => {
            const pk = ed25519.getPublicKey(secret)
            const sig = ed25519.sign(message, secret)
            assert.equal(await verifyEd25519(pk, message, sig), true)
            const webSig = new Uint8Array(await crypto.subtle.sign('Ed25519', me.privateKey, message as Uint8Array<ArrayBuffer>))
            assert.equal(await verifyEd25519(myPk, message, webSig), true)
            if (where === 'message') {
              const mutated = message.length === 0 ? new Uint8Array([bit & 0xff]) : flipBit(message, bit % (message.length * 8))
              assert.equal(await verifyEd25519(pk, mutated, sig), false)
            } else if (where === 'signature') {
              assert.equal(await verifyEd25519(pk, message, flipBit(sig, bit % 512)), false)
            } else {
              assert.equal(await verifyEd25519(flipBit(pk, bit % 256), message, sig), false)
            }
          }), runs(200))
      })
    })
  })

  describe('isSmallOrderPoint() and isCanonicalPoint()', () => {
    it('the 8 small-order encodings are exactly the 8-torsion (8·P = O), and all are flagged', () => {
      const seen = new Set<string>()
      for (const aHex of ED25519_TORSION_SUBGROUP) {
        const point = Point.fromBytes(hex(aHex))
        assert.ok(point.multiplyUnsafe(8n).is0(), `8·${aHex} is the identity`)
        assert.ok(point.isSmallOrder())
        assert.equal(isSmallOrderPoint(hex(aHex)), true, aHex)
        assert.equal(isCanonicalPoint(hex(aHex)), true, aHex)
        seen.add(point.toHex())
      }
      assert.equal(seen.size, 8, 'eight distinct points')
      // And they generate each other: the subgroup is {k·T : k = 0..7} for T of order 8.
      const T = Point.fromBytes(hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'))
      for (let k = 0n; k < 8n; k++) assert.ok(seen.has(T.multiplyUnsafe(k === 0n ? 8n : k).toHex()))
    })

    it('agrees with @noble/curves on every encoding with y >= p (19 values, both signs) and its neighbours', () => {
      for (let y = P - 3n; y < 2n ** 255n; y++) {
        for (const sign of [0, 1] as const) checkAgainstNoble(encodeY(y, sign))
      }
      for (const y of [0n, 1n, 2n, P - 1n]) for (const sign of [0, 1] as const) checkAgainstNoble(encodeY(y, sign))
    })

    it('property: agrees with @noble/curves on random encodings and random curve points', () => {
      withSeed(() => {
        fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.bigInt({ min: 1n, max: L - 1n }), fc.nat(7),
          (bytes, k, t) => {
            checkAgainstNoble(bytes)
            // a point with a torsion component (mixed order) is not small order; a torsion point is
            const torsion = Point.fromBytes(hex(ED25519_TORSION_SUBGROUP[t]!))
            const mixed = B.multiply(k).add(torsion).toBytes()
            checkAgainstNoble(mixed)
            assert.equal(isSmallOrderPoint(mixed), false)
          }), runs(2000))
      })
    })

    it('throws ERR_BAD_KEY_LENGTH for a length other than 32', () => {
      assert.throws(() => isSmallOrderPoint(new Uint8Array(31)), (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_KEY_LENGTH')
      assert.throws(() => isCanonicalPoint(new Uint8Array(33)), (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_KEY_LENGTH')
    })
  })
})

/**
 * isCanonicalPoint = "strict RFC 8032 decoding would not reject the spelling" and isSmallOrderPoint
 * = "a lenient (ZIP-215) decoder reads a point of small order", for every encoding noble can read.
 */
function checkAgainstNoble (bytes: Uint8Array): void {
  let lenient
  try { lenient = Point.fromBytes(bytes, true) } catch { return } // not on the curve at all
  let strictOk = true
  try { Point.fromBytes(bytes, false) } catch { strictOk = false }
  assert.equal(isCanonicalPoint(bytes), strictOk, `canonical ${toHex(bytes)}`)
  assert.equal(isSmallOrderPoint(bytes), lenient.isSmallOrder(), `small order ${toHex(bytes)}`)
}
