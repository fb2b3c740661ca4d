import { describe, it, before } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decode, encode } from 'cborg'
import {
  Identity, verifyEd25519, verifyAgreementBinding, loadOrCreateIdentity, nodeIdFromPublicKey,
  publicKeyFromNodeId, signMessage, IdentityError
} from '../../../src/core/identity/index.ts'
import { equalBytes, utf8 } from '../../../src/core/bytes.ts'
import { MemoryKeyStore, flipBit, runs, withSeed } from './helpers.ts'

const isBadFile = (err: unknown): boolean => err instanceof IdentityError && err.code === 'ERR_BAD_IDENTITY_FILE'

describe('identity', () => {
  describe('Identity', () => {
    let me: Identity
    let exported: Uint8Array
    before(async () => {
      me = await Identity.generate()
      exported = await me.export()
    })

    it('has 32-byte public keys and a node id naming the signing key', () => {
      assert.equal(me.publicKey.length, 32)
      assert.equal(me.agreementPublicKey.length, 32)
      assert.equal(me.nodeId, nodeIdFromPublicKey(me.publicKey))
      assert.ok(equalBytes(publicKeyFromNodeId(me.nodeId), me.publicKey))
      assert.ok(!equalBytes(me.publicKey, me.agreementPublicKey))
    })

    it('generates a different identity each time', async () => {
      const other = await Identity.generate()
      assert.notEqual(other.nodeId, me.nodeId)
      assert.ok(!equalBytes(other.agreementPublicKey, me.agreementPublicKey))
    })

    it('signs 64-byte signatures that verifyEd25519 accepts', async () => {
      const sig = await me.sign(utf8('hello'))
      assert.equal(sig.length, 64)
      assert.equal(await verifyEd25519(me.publicKey, utf8('hello'), sig), true)
      assert.equal(await verifyEd25519(me.publicKey, utf8('hellO'), sig), false)
    })

    it('exports a versioned CBOR map and imports it back with the same keys', async () => {
      const record = decode(exported) as Record<string, unknown>
      assert.deepEqual(Object.keys(record).sort(), ['agree', 'agreePublic', 'sign', 'signPublic', 'v'])
      assert.equal(record.v, 1)
      const again = await Identity.import(exported)
      assert.equal(again.nodeId, me.nodeId)
      assert.ok(equalBytes(again.agreementPublicKey, me.agreementPublicKey))
      assert.ok(equalBytes(await again.export(), exported), 'export is deterministic')
      // a plain Uint8Array, not a pooled Node Buffer whose slice() would alias
      assert.equal(Object.getPrototypeOf(exported), Uint8Array.prototype)
      assert.equal(exported.byteOffset, 0)
      assert.equal(exported.buffer.byteLength, exported.length)
    })

    it('property: an imported identity keeps its node id and its signatures verify', async () => {
      await withSeed(async () => {
        await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), async (message) => {
          const fresh = await Identity.generate()
          const copy = await Identity.import(await fresh.export())
          assert.equal(copy.nodeId, fresh.nodeId)
          assert.equal(await verifyEd25519(fresh.publicKey, message, await copy.sign(message)), true)
          assert.equal(await verifyEd25519(copy.publicKey, message, await fresh.sign(message)), true)
        }), runs(30))
      })
    })

    it('rejects garbage, empty and oversized input with ERR_BAD_IDENTITY_FILE', async () => {
      for (const bad of [new Uint8Array(0), utf8('hello'), new Uint8Array(64), new Uint8Array(5000), encode([1, 2, 3]), encode('x'), encode(null)]) {
        await assert.rejects(Identity.import(bad), isBadFile)
      }
      await assert.rejects(Identity.import('not bytes' as unknown as Uint8Array), isBadFile)
    })

    it('property: rejects every truncation', async () => {
      await withSeed(async () => {
        await fc.assert(fc.asyncProperty(fc.nat(exported.length - 1), async (length) => {
          await assert.rejects(Identity.import(exported.slice(0, length)), isBadFile)
        }), runs(100))
      })
    })

    it('property: a flipped bit is rejected or yields exactly the same identity (never another one)', async () => {
      // Some bits of a PKCS#8 encoding are not checked by every decoder (e.g. a flipped bit in
      // an unused DER field may still parse), but the self-check guarantees the keys match.
      await withSeed(async () => {
        await fc.assert(fc.asyncProperty(fc.nat(exported.length * 8 - 1), async (bit) => {
          const mutated = flipBit(exported, bit)
          let imported: Identity
          try {
            imported = await Identity.import(mutated)
          } catch (err) {
            assert.ok(isBadFile(err), String(err))
            return
          }
          assert.equal(imported.nodeId, me.nodeId)
          assert.ok(equalBytes(imported.agreementPublicKey, me.agreementPublicKey))
        }), runs(300))
      })
    })

    it('rejects another version, extra or missing fields, and spliced keys', async () => {
      const record = decode(exported) as Record<string, unknown>
      const other = decode(await (await Identity.generate()).export()) as Record<string, unknown>
      const variants: Array<Record<string, unknown>> = [
        { ...record, v: 2 },
        { ...record, extra: 1 },
        { v: record.v, sign: record.sign, signPublic: record.signPublic, agree: record.agree },
        { ...record, signPublic: other.signPublic },
        { ...record, agreePublic: other.agreePublic },
        { ...record, sign: other.sign },
        { ...record, agree: record.sign },
        { ...record, signPublic: (record.signPublic as Uint8Array).subarray(0, 31) },
        { ...record, sign: 'text' }
      ]
      for (const variant of variants) await assert.rejects(Identity.import(encode(variant)), isBadFile, JSON.stringify(Object.keys(variant)))
    })
  })

  describe('agreement-key binding', () => {
    it('verifies for the same network only, and not for another key', async () => {
      const me = await Identity.generate()
      const other = await Identity.generate()
      const sig = await me.bindingSignature('mainnet')
      assert.equal(await verifyAgreementBinding('mainnet', me.publicKey, me.agreementPublicKey, sig), true)
      assert.equal(await verifyAgreementBinding('testnet', me.publicKey, me.agreementPublicKey, sig), false)
      assert.equal(await verifyAgreementBinding('mainnet', me.publicKey, other.agreementPublicKey, sig), false)
      assert.equal(await verifyAgreementBinding('mainnet', other.publicKey, me.agreementPublicKey, sig), false)
      // a signature over the same bytes under another message type does not bind
      const wrongType = await signMessage(me, 'mainnet', 'something-else', me.agreementPublicKey)
      assert.equal(await verifyAgreementBinding('mainnet', me.publicKey, me.agreementPublicKey, wrongType), false)
      await assert.rejects(verifyAgreementBinding('mainnet', me.publicKey, new Uint8Array(31), sig),
        (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_AGREEMENT_KEY')
      await assert.rejects(verifyAgreementBinding('mainnet', new Uint8Array(31), me.agreementPublicKey, sig),
        (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_KEY_LENGTH')
    })
  })

  describe('loadOrCreateIdentity()', () => {
    it('creates and saves once, then loads the same identity', async () => {
      const store = new MemoryKeyStore()
      const first = await loadOrCreateIdentity(store)
      assert.equal(store.saves, 1)
      const second = await loadOrCreateIdentity(store)
      assert.equal(store.saves, 1)
      assert.equal(second.nodeId, first.nodeId)
    })

    it('fails loudly on corrupt bytes and does not replace them', async () => {
      const store = new MemoryKeyStore()
      store.bytes = utf8('corrupt')
      await assert.rejects(loadOrCreateIdentity(store), isBadFile)
      assert.ok(equalBytes(store.bytes, utf8('corrupt')))
      assert.equal(store.saves, 0)
    })

    it('adopts the identity another process saved first', async () => {
      const winner = await Identity.generate()
      const winnerBytes = await winner.export()
      const store = new MemoryKeyStore()
      let loads = 0
      const racing = {
        load: async () => (loads++ === 0 ? null : winnerBytes.slice()),
        save: async () => { throw new Error('exists') }
      }
      const me = await loadOrCreateIdentity(racing)
      assert.equal(me.nodeId, winner.nodeId)
      // and a save failure with nothing stored is reported, not hidden
      await assert.rejects(loadOrCreateIdentity({ load: async () => null, save: async () => { throw new Error('disk full') } }), /disk full/)
      assert.equal(store.saves, 0)
    })
  })
})
