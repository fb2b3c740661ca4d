/**
 * The encryption kernel: McGrew–Viega GCM test cases 13–16 (the AES-256 ones with 96-bit IVs, as
 * reprinted in NIST's GCM spec), round trips, tampering, bad parameters and the comparator.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { checkAsync, kernelError } from './helpers.ts'
import { fromHex, toHex } from '../../../src/core/bytes.ts'
import { encodeCanonical } from '../../../src/core/codec/index.ts'
import {
  encryptionKernel, encodeEncryptionPayload, decodeEncryptionOutput,
  MAX_ENCRYPTION_DATA_BYTES, MAX_ENCRYPTION_AAD_BYTES
} from '../../../src/core/kernels/encryption.ts'
import type { EncryptionPayload } from '../../../src/core/kernels/encryption.ts'

const hex = (s: string): Uint8Array => fromHex(s.replace(/\s+/g, '')) as Uint8Array

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B, test cases 13-16.
const K15 = 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308'
const P15 = 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255'
const C15 = '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad'
const VECTORS = [
  { name: 'test case 13 (empty plaintext)', key: '00'.repeat(32), iv: '00'.repeat(12), p: '', a: '', c: '', t: '530f8afbc74536b9a963b4f1c4cb738b' },
  { name: 'test case 14 (one zero block)', key: '00'.repeat(32), iv: '00'.repeat(12), p: '00'.repeat(16), a: '', c: 'cea7403d4d606b6e074ec5d3baf39d18', t: 'd0d1c8a799996bf0265b98b5d48ab919' },
  { name: 'test case 15 (four blocks)', key: K15, iv: 'cafebabefacedbaddecaf888', p: P15, a: '', c: C15, t: 'b094dac5d93471bdec1a502270e3cc6c' },
  { name: 'test case 16 (partial block, AAD)', key: K15, iv: 'cafebabefacedbaddecaf888', p: P15.slice(0, 120), a: 'feedfacedeadbeeffeedfacedeadbeefabaddad2', c: C15.slice(0, 120), t: '76fc6ece0f4e1768cddf8853bb2d551b' }
]

function payload (p: Partial<EncryptionPayload> & Pick<EncryptionPayload, 'op' | 'data'>): Uint8Array {
  return encodeEncryptionPayload({ key: new Uint8Array(32).fill(7), iv: new Uint8Array(12).fill(9), ...p })
}

async function run (p: Uint8Array): Promise<Uint8Array> {
  return decodeEncryptionOutput(await encryptionKernel.run(p)).data
}

describe('kernels', () => {
  describe('encryption', () => {
    for (const v of VECTORS) {
      it(`matches ${v.name} both ways`, async () => {
        const base = { key: hex(v.key), iv: hex(v.iv), ...(v.a === '' ? {} : { aad: hex(v.a) }) }
        const sealed = await run(encodeEncryptionPayload({ ...base, op: 'encrypt', data: hex(v.p) }))
        assert.equal(toHex(sealed), v.c + v.t)
        const opened = await run(encodeEncryptionPayload({ ...base, op: 'decrypt', data: hex(v.c + v.t) }))
        assert.equal(toHex(opened), v.p)
      })
    }

    it('round-trips any data and AAD, and the two workers of a task agree', async () => {
      await checkAsync(fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 300 }), fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }),
        async (key, iv, data, aad) => {
          const base = aad === undefined ? { key, iv } : { key, iv, aad }
          const enc = encodeEncryptionPayload({ ...base, op: 'encrypt', data })
          const a = await encryptionKernel.run(enc)
          const b = await encryptionKernel.run(enc)
          assert.ok(encryptionKernel.agree(a, b))
          assert.equal(encryptionKernel.size(enc), data.length + (aad?.length ?? 0))
          const sealed = decodeEncryptionOutput(a).data
          assert.equal(sealed.length, data.length + 16)
          assert.deepEqual(await run(encodeEncryptionPayload({ ...base, op: 'decrypt', data: sealed })), data)
        }), 50)
    })

    it('refuses a ciphertext, tag, IV or AAD changed in any one bit', async () => {
      const key = new Uint8Array(32).fill(1)
      const iv = new Uint8Array(12).fill(2)
      const aad = new Uint8Array([1, 2, 3])
      const sealed = await run(encodeEncryptionPayload({ op: 'encrypt', key, iv, aad, data: new Uint8Array(40).fill(5) }))
      await checkAsync(fc.asyncProperty(fc.integer({ min: 0, max: sealed.length * 8 - 1 }), async bit => {
        const bad = sealed.slice()
        bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7))
        await assert.rejects(encryptionKernel.run(encodeEncryptionPayload({ op: 'decrypt', key, iv, aad, data: bad })), kernelError('ERR_KERNEL_DECRYPT_FAILED'))
      }), 100)
      const otherIv = iv.slice(); otherIv[0] = 3
      await assert.rejects(encryptionKernel.run(encodeEncryptionPayload({ op: 'decrypt', key, iv: otherIv, aad, data: sealed })), kernelError('ERR_KERNEL_DECRYPT_FAILED'))
      await assert.rejects(encryptionKernel.run(encodeEncryptionPayload({ op: 'decrypt', key, iv, data: sealed })), kernelError('ERR_KERNEL_DECRYPT_FAILED'))
      const otherKey = key.slice(); otherKey[31] = 0x81
      await assert.rejects(encryptionKernel.run(encodeEncryptionPayload({ op: 'decrypt', key: otherKey, iv, aad, data: sealed })), kernelError('ERR_KERNEL_DECRYPT_FAILED'))
    })

    it('refuses keys that are not 32 bytes and IVs that are not 12 (test cases 17/18 use other IVs)', () => {
      for (const n of [0, 16, 24, 31, 33]) {
        assert.throws(() => payload({ op: 'encrypt', data: new Uint8Array(1), key: new Uint8Array(n) }), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      }
      for (const n of [0, 8, 11, 13, 16, 60]) {
        const raw = encodeCanonical({ op: 'encrypt', key: new Uint8Array(32), iv: new Uint8Array(n), data: new Uint8Array(1) })
        assert.throws(() => encryptionKernel.size(raw), kernelError('ERR_KERNEL_BAD_PARAMETER'))
      }
    })

    it('refuses malformed payloads with ERR_KERNEL_BAD_PAYLOAD', async () => {
      const key = new Uint8Array(32)
      const iv = new Uint8Array(12)
      const bad = [
        new Uint8Array([0xff]),
        encodeCanonical([1, 2]),
        encodeCanonical({ op: 'sign', key, iv, data: new Uint8Array(1) }),
        encodeCanonical({ op: 'encrypt', key: 'k', iv, data: new Uint8Array(1) }),
        encodeCanonical({ op: 'encrypt', key, iv, data: 'text' }),
        encodeCanonical({ op: 'encrypt', key, iv, data: new Uint8Array(1), aad: 5 }),
        encodeCanonical({ op: 'encrypt', key, iv, data: new Uint8Array(1), tag: new Uint8Array(16) }),
        encodeCanonical({ op: 'decrypt', key, iv, data: new Uint8Array(15) })
      ]
      for (const p of bad) {
        assert.throws(() => encryptionKernel.size(p), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
        await assert.rejects(encryptionKernel.run(p), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      }
    })

    it('refuses data and AAD above the documented limits', () => {
      const key = new Uint8Array(32)
      const iv = new Uint8Array(12)
      assert.throws(() => encryptionKernel.size(encodeCanonical({ op: 'encrypt', key, iv, data: new Uint8Array(MAX_ENCRYPTION_DATA_BYTES + 1) })), kernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE'))
      assert.throws(() => encryptionKernel.size(encodeCanonical({ op: 'encrypt', key, iv, data: new Uint8Array(1), aad: new Uint8Array(MAX_ENCRYPTION_AAD_BYTES + 1) })), kernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE'))
      assert.equal(encryptionKernel.size(encodeCanonical({ op: 'encrypt', key, iv, data: new Uint8Array(MAX_ENCRYPTION_DATA_BYTES) })), MAX_ENCRYPTION_DATA_BYTES)
    })

    it('agree() demands exact bytes and never throws on malformed outputs', async () => {
      const a = await encryptionKernel.run(payload({ op: 'encrypt', data: new Uint8Array([1, 2, 3]) }))
      const b = await encryptionKernel.run(payload({ op: 'encrypt', data: new Uint8Array([1, 2, 4]) }))
      assert.equal(encryptionKernel.agree(a, a.slice()), true)
      assert.equal(encryptionKernel.agree(a, b), false)
      for (const junk of [new Uint8Array(0), new Uint8Array([0xa0]), encodeCanonical({ data: 'x' }), encodeCanonical({ data: new Uint8Array(1), extra: 1 })]) {
        assert.equal(encryptionKernel.agree(a, junk), false)
        assert.equal(encryptionKernel.agree(junk, junk), false)
      }
    })

    it('stops before work when the signal is already aborted', async () => {
      const controller = new AbortController()
      controller.abort(new Error('stop'))
      await assert.rejects(encryptionKernel.run(payload({ op: 'encrypt', data: new Uint8Array(4) }), { signal: controller.signal }), /stop/)
    })
  })
})
