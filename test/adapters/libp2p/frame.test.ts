/**
 * The direct-message frame (src/adapters/libp2p/frame.ts) and the identity → libp2p key
 * derivation (identity-key.ts).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Identity, verifyEd25519 } from '../../../src/core/identity/index.ts'
import { MAX_TOPIC_BYTES, TransportError, decodeDirectFrame, ed25519SeedFromPkcs8, encodeDirectFrame, libp2pPrivateKey } from '../../../src/adapters/libp2p/index.ts'

const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)
const isCode = (code: string) => (err: unknown): boolean => err instanceof TransportError && err.code === code

describe('direct frame', () => {
  it(`round-trips any topic and data (seed ${seed})`, () => {
    fc.assert(fc.property(
      fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }), fc.uint8Array({ maxLength: 300 }),
      (topic, data) => {
        const decoded = decodeDirectFrame(encodeDirectFrame(topic, data))
        assert.deepEqual(decoded, { topic, data })
        assert.equal(Object.getPrototypeOf(decoded?.data), Uint8Array.prototype)
      }), { seed, numRuns: 200 })
  })

  it('refuses an empty or too long topic', () => {
    assert.throws(() => encodeDirectFrame('', new Uint8Array(1)), isCode('ERR_BAD_TOPIC'))
    assert.throws(() => encodeDirectFrame('é'.repeat(128), new Uint8Array(1)), isCode('ERR_BAD_TOPIC'))
    assert.equal(decodeDirectFrame(encodeDirectFrame('x'.repeat(MAX_TOPIC_BYTES), new Uint8Array(0)))?.topic.length, MAX_TOPIC_BYTES)
  })

  it('decodes malformed frames to undefined', () => {
    assert.equal(decodeDirectFrame(new Uint8Array(0)), undefined)
    assert.equal(decodeDirectFrame(Uint8Array.of(0, 1, 2)), undefined, 'empty topic')
    assert.equal(decodeDirectFrame(Uint8Array.of(5, 0x61, 0x62)), undefined, 'truncated topic')
    assert.equal(decodeDirectFrame(Uint8Array.of(1, 0xff, 9)), undefined, 'topic not UTF-8')
  })
})

describe('libp2pPrivateKey()', () => {
  it('derives the key whose peer id is the identity public key, and survives export/import', async () => {
    const identity = await Identity.generate()
    const key = await libp2pPrivateKey(identity)
    assert.equal(key.type, 'Ed25519')
    assert.deepEqual(new Uint8Array(key.publicKey.raw), identity.publicKey)
    const again = await libp2pPrivateKey(await Identity.import(await identity.export()))
    assert.equal(peerIdFromPrivateKey(again).toString(), peerIdFromPrivateKey(key).toString())
    const msg = new Uint8Array([1, 2, 3])
    // Same key, both ways: libp2p's signature verifies under the identity, and the identity's under libp2p.
    assert.equal(await verifyEd25519(identity.publicKey, msg, await key.sign(msg)), true)
    assert.equal(await key.publicKey.verify(msg, await identity.sign(msg)), true)
  })

  it('refuses PKCS#8 bytes that are not a bare Ed25519 key', () => {
    assert.throws(() => ed25519SeedFromPkcs8(new Uint8Array(48)), isCode('ERR_BAD_TRANSPORT_IDENTITY'))
    assert.throws(() => ed25519SeedFromPkcs8(new Uint8Array(47)), isCode('ERR_BAD_TRANSPORT_IDENTITY'))
  })
})
