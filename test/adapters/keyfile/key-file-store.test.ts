import { describe, it, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, readFile, readdir, writeFile, stat, chmod, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KeyFileStore, KeyStoreError, KEY_STORE_ERROR_CODES } from '../../../src/adapters/keyfile/key-file-store.ts'
import { loadOrCreateIdentity, Identity, IdentityError } from '../../../src/core/identity/index.ts'
import { equalBytes, utf8 } from '../../../src/core/bytes.ts'

const posix = process.platform !== 'win32'
const hasCode = (code: string) => (err: unknown): boolean => err instanceof KeyStoreError && err.code === code

describe('adapters/keyfile', () => {
  describe('KeyFileStore', () => {
    let dir: string
    beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'edge-net-keyfile-')) })
    afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

    it('load() returns null when there is no file', async () => {
      assert.equal(await new KeyFileStore(join(dir, 'identity')).load(), null)
    })

    it('save() creates the file (and its directories) with mode 0o600, and load() returns the bytes', async () => {
      const path = join(dir, 'a', 'b', 'identity')
      const store = new KeyFileStore(path)
      await store.save(new Uint8Array([1, 2, 3]))
      const loaded = await store.load()
      assert.deepEqual(loaded, new Uint8Array([1, 2, 3]))
      assert.equal(Object.getPrototypeOf(loaded), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer')
      if (posix) {
        assert.equal((await stat(path)).mode & 0o777, 0o600)
        assert.equal((await stat(join(dir, 'a'))).mode & 0o077, 0, 'created directories are owner-only')
      }
    })

    it('save() never overwrites an existing file', async () => {
      const path = join(dir, 'identity')
      await writeFile(path, 'precious', { mode: 0o600 })
      const store = new KeyFileStore(path)
      await assert.rejects(store.save(utf8('new')), hasCode('ERR_KEY_FILE_EXISTS'))
      assert.equal(await readFile(path, 'utf8'), 'precious')
      await assert.rejects(store.save(utf8('again')), hasCode('ERR_KEY_FILE_EXISTS'))
      assert.deepEqual(await readdir(dir), ['identity'], 'no temporary file is left behind')
    })

    it('load() refuses a file that group or others can access', { skip: !posix && 'POSIX modes only' }, async () => {
      const path = join(dir, 'identity')
      await writeFile(path, 'secret', { mode: 0o600 })
      for (const mode of [0o640, 0o604, 0o660, 0o602, 0o610]) {
        await chmod(path, mode)
        await assert.rejects(new KeyFileStore(path).load(), hasCode('ERR_KEY_FILE_PERMISSIONS'), mode.toString(8))
      }
      await chmod(path, 0o400)
      assert.deepEqual(await new KeyFileStore(path).load(), utf8('secret'))
    })

    it('load() reports a directory in place of the file as ERR_KEY_FILE_IO', async () => {
      const path = join(dir, 'identity')
      await mkdir(path, { mode: 0o700 })
      await assert.rejects(new KeyFileStore(path).load(), hasCode('ERR_KEY_FILE_IO'))
    })

    it('has a stable error catalogue', () => {
      assert.deepEqual([...KEY_STORE_ERROR_CODES], ['ERR_KEY_FILE_EXISTS', 'ERR_KEY_FILE_PERMISSIONS', 'ERR_KEY_FILE_IO'])
      const err = new KeyStoreError('ERR_KEY_FILE_IO', 'x')
      assert.equal(err.name, 'KeyStoreError')
    })
  })

  describe('loadOrCreateIdentity() over a KeyFileStore', () => {
    let dir: string
    beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'edge-net-keyfile-')) })
    afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

    it('creates an identity on first run and loads the same one afterwards', async () => {
      const path = join(dir, 'node', 'identity')
      const first = await loadOrCreateIdentity(new KeyFileStore(path))
      const bytes = await readFile(path)
      const second = await loadOrCreateIdentity(new KeyFileStore(path))
      assert.equal(second.nodeId, first.nodeId)
      assert.ok(equalBytes(await readFile(path), bytes), 'the file is not rewritten')
    })

    it('fails loudly on a corrupt file and leaves its bytes untouched', async () => {
      const path = join(dir, 'identity')
      const first = await loadOrCreateIdentity(new KeyFileStore(path))
      assert.ok(first.nodeId.startsWith('en'))
      const good = await readFile(path)
      await writeFile(path, good.subarray(0, good.length - 40), { mode: 0o600 }) // truncated
      const before = await readFile(path)
      await assert.rejects(loadOrCreateIdentity(new KeyFileStore(path)),
        (err: unknown) => err instanceof IdentityError && err.code === 'ERR_BAD_IDENTITY_FILE')
      assert.ok(equalBytes(await readFile(path), before))
    })

    it('concurrent first runs agree on one identity', async () => {
      const path = join(dir, 'identity')
      for (let round = 0; round < 10; round++) {
        await rm(path, { force: true })
        const nodes = await Promise.all(Array.from({ length: 8 }, async () => await loadOrCreateIdentity(new KeyFileStore(path))))
        assert.equal(new Set(nodes.map((n) => n.nodeId)).size, 1)
        assert.equal((await Identity.import(new Uint8Array(await readFile(path)))).nodeId, nodes[0]!.nodeId)
      }
    })
  })
})
