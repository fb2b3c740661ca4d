/**
 * The encryption kernel's two AES-256-GCM engines (node:crypto and WebCrypto) give the same bytes:
 * on seeded random inputs of many sizes (0 bytes, odd lengths, across the 128 KiB slice boundary,
 * 1 MiB), with and without AAD, both ways; they refuse the same forgeries with the same code; and
 * the hand-written output head equals the codec's canonical encoding at every length boundary.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { checkAsync, kernelError } from './helpers.ts'
import { seed } from '../../helpers/property.ts'
import { fromHex, toHex } from '../../../src/core/bytes.ts'
import { encodeCanonical } from '../../../src/core/codec/index.ts'
import {
  encryptionKernel, encodeEncryptionPayload, decodeEncryptionOutput, aesGcmEngine, runEncryptionWith
} from '../../../src/core/kernels/encryption.ts'
import type { AesGcmEngineName, EncryptionPayload } from '../../../src/core/kernels/encryption.ts'

const ENGINES: readonly AesGcmEngineName[] = ['node:crypto', 'webcrypto']
const hex = (s: string): Uint8Array => fromHex(s) as Uint8Array

/** A seeded xorshift32 byte source: the same inputs for the same SEED. */
function bytesFrom (state: { s: number }, n: number): Uint8Array {
  const out = new Uint8Array(n)
  let s = state.s
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5
    out[i] = s & 0xff
  }
  state.s = s
  return out
}

/** Run one payload through both engines; assert they agree byte for byte and return the output. */
async function both (payload: EncryptionPayload, what: string): Promise<Uint8Array> {
  const bytes = encodeEncryptionPayload(payload)
  const [a, b] = await Promise.all(ENGINES.map(async e => runEncryptionWith(e, bytes)))
  assert.ok(a !== undefined && b !== undefined)
  assert.ok(a.length === b.length && Buffer.compare(a, b) === 0, `engines differ on ${what} (SEED=${seed})`)
  assert.deepEqual(a, await encryptionKernel.run(bytes))
  // The output is exactly what the codec would have written: same format as before the fast path.
  assert.deepEqual(a, encodeCanonical({ data: decodeEncryptionOutput(a).data }), `output not canonical on ${what}`)
  return decodeEncryptionOutput(a).data
}

describe('kernels', () => {
  describe('encryption engines', () => {
    it('uses node:crypto under Node (this suite runs both either way)', () => {
      assert.equal(aesGcmEngine(), 'node:crypto')
    })

    it('falls back to WebCrypto where getBuiltinModule is missing or its node:crypto fails the known answer', () => {
      const url = new URL('../../../src/core/kernels/encryption.ts', import.meta.url).href
      const probe = (setup: string): string => execFileSync(process.execPath, ['--input-type=module', '-e', `${setup}
        const m = await import(${JSON.stringify(url)})
        const payload = m.encodeEncryptionPayload({ op: 'encrypt', key: new Uint8Array(32), iv: new Uint8Array(12), data: new Uint8Array(16) })
        const out = m.decodeEncryptionOutput(await m.encryptionKernel.run(payload)).data
        console.log(m.aesGcmEngine(), Buffer.from(out).toString('hex'))`], { encoding: 'utf8' }).trim()
      const answer = 'cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919'
      assert.equal(probe(''), `node:crypto ${answer}`)
      assert.equal(probe('process.getBuiltinModule = undefined'), `webcrypto ${answer}`)
      // A look-alike whose cipher is wrong (here: the IV's last byte changed) must not be used.
      assert.equal(probe(`const real = process.getBuiltinModule
        process.getBuiltinModule = id => id !== 'node:crypto' ? real(id) : { ...real(id), createCipheriv: (a, k, iv, o) => real(id).createCipheriv(a, k, iv.map((b, i) => i === 11 ? b ^ 1 : b), o) }`), `webcrypto ${answer}`)
    })

    it('agree byte for byte on seeded random inputs of many sizes, and round-trip', async () => {
      const state = { s: (seed >>> 0) || 1 }
      // Output-head boundaries (result 23/24, 255/256, 65535/65536 bytes: encrypt adds the 16-byte
      // tag, decrypt removes it), the uninitialized-allocation threshold (4096) and the 128 KiB slice.
      const sizes = [0, 1, 7, 8, 15, 16, 17, 23, 24, 239, 240, 255, 256, 4079, 4080, 4097, 65519, 65520, 65535, 65536,
        131071, 131072, 131073, 262145, 1_000_003, 1 << 20]
      for (const n of sizes) {
        for (const withAad of [false, true]) {
          const key = bytesFrom(state, 32)
          const iv = bytesFrom(state, 12)
          const data = bytesFrom(state, n)
          const base = withAad ? { key, iv, aad: bytesFrom(state, 1 + (n % 97)) } : { key, iv }
          const what = `${n} bytes${withAad ? ' with AAD' : ''}`
          const sealed = await both({ ...base, op: 'encrypt', data }, `encrypt ${what}`)
          assert.equal(sealed.length, n + 16)
          const opened = await both({ ...base, op: 'decrypt', data: sealed }, `decrypt ${what}`)
          assert.ok(Buffer.compare(opened, data) === 0, `round trip failed on ${what} (SEED=${seed})`)
        }
      }
    })

    it('agree on random short inputs (property)', async () => {
      await checkAsync(fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 600 }), fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
        async (key, iv, data, aad) => {
          const base = aad === undefined ? { key, iv } : { key, iv, aad }
          const sealed = await both({ ...base, op: 'encrypt', data }, 'a random input')
          assert.deepEqual(await both({ ...base, op: 'decrypt', data: sealed }, 'its ciphertext'), data)
        }), 100)
    })

    it('both match NIST GCM test case 16 (AES-256, 96-bit IV, AAD, partial block)', async () => {
      // McGrew-Viega Appendix B test case 16, as in NIST's GCM submission (gcm-spec.pdf).
      const key = hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308')
      const iv = hex('cafebabefacedbaddecaf888')
      const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2')
      const p = 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39'
      const c = '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662'
      for (const e of ENGINES) {
        const out = decodeEncryptionOutput(await runEncryptionWith(e, encodeEncryptionPayload({ op: 'encrypt', key, iv, aad, data: hex(p) }))).data
        assert.equal(toHex(out), c + '76fc6ece0f4e1768cddf8853bb2d551b', e)
      }
    })

    it('both refuse a flipped bit with ERR_KERNEL_DECRYPT_FAILED, at any size', async () => {
      const state = { s: ((seed ^ 0x5eed) >>> 0) || 1 }
      for (const n of [0, 5, 200_000]) {
        const key = bytesFrom(state, 32)
        const iv = bytesFrom(state, 12)
        const sealed = await both({ op: 'encrypt', key, iv, data: bytesFrom(state, n) }, `${n} bytes`)
        for (const bit of [0, (n + 16) * 8 - 1, (bytesFrom(state, 1)[0] as number) % ((n + 16) * 8)]) {
          const bad = sealed.slice()
          bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7))
          for (const e of ENGINES) {
            await assert.rejects(runEncryptionWith(e, encodeEncryptionPayload({ op: 'decrypt', key, iv, data: bad })), kernelError('ERR_KERNEL_DECRYPT_FAILED'), `${e}, ${n} bytes, bit ${bit}`)
          }
        }
      }
    })

    it('both read payloads whose bytes live in a SharedArrayBuffer', async () => {
      const payload = encodeEncryptionPayload({ op: 'encrypt', key: new Uint8Array(32).fill(1), iv: new Uint8Array(12).fill(2), aad: new Uint8Array([3]), data: new Uint8Array(5000).fill(4) })
      const shared = new Uint8Array(new SharedArrayBuffer(payload.length))
      shared.set(payload)
      const [a, b] = await Promise.all(ENGINES.map(async e => runEncryptionWith(e, shared)))
      assert.deepEqual(a, b)
      assert.deepEqual(a, await encryptionKernel.run(payload))
    })

    it('both apply the same payload checks and honour an aborted signal', async () => {
      const controller = new AbortController()
      controller.abort(new Error('stop'))
      const ok = encodeEncryptionPayload({ op: 'encrypt', key: new Uint8Array(32), iv: new Uint8Array(12), data: new Uint8Array(3) })
      const short = encodeCanonical({ op: 'decrypt', key: new Uint8Array(32), iv: new Uint8Array(12), data: new Uint8Array(15) })
      for (const e of ENGINES) {
        await assert.rejects(runEncryptionWith(e, ok, { signal: controller.signal }), /stop/)
        await assert.rejects(runEncryptionWith(e, short), kernelError('ERR_KERNEL_BAD_PAYLOAD'))
      }
    })
  })
})
