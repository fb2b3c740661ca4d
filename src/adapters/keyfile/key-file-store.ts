/**
 * A KeyStore over one file, for Node: the identity of a node run with `edge-net node`.
 *
 * The file is secret (whoever reads it is the node), so it is created with mode 0o600 and
 * refused on load if group or others can read or write it, as ssh does with a private key. It is
 * written once: `save` never overwrites an existing identity, because replacing a key gives the
 * node a new name and orphans its credits.
 *
 * Saving writes a temporary file (created exclusively, 'wx', mode 0o600), syncs it, then
 * publishes it with link(2), which fails with EEXIST rather than replace the target. So a reader
 * (another process starting at the same moment) sees either no file or the whole file, never a
 * half-written one, and a crash mid-write leaves only a stray temporary file, not a corrupt key.
 */
import { link, mkdir, open, unlink } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { dirname } from 'node:path'
import { EdgeNetError } from '../../core/errors.ts'
import type { KeyStore } from '../../ports.ts'

/**
 * Every code a {@link KeyStoreError} can carry.
 *
 * @example
 * KEY_STORE_ERROR_CODES.includes(err.code)
 */
export const KEY_STORE_ERROR_CODES = [
  /** save() found a key file already there and left it alone. */
  'ERR_KEY_FILE_EXISTS',
  /** The key file is readable or writable by group or others (mode & 0o077); fix with chmod 600. */
  'ERR_KEY_FILE_PERMISSIONS',
  /** The file system failed (not a file, no permission to the directory, disk full...). */
  'ERR_KEY_FILE_IO'
] as const

/** One of {@link KEY_STORE_ERROR_CODES}. @example const code: KeyStoreErrorCode = 'ERR_KEY_FILE_EXISTS' */
export type KeyStoreErrorCode = typeof KEY_STORE_ERROR_CODES[number]

/**
 * A failure of a key file.
 *
 * @example
 * try { await store.save(bytes) } catch (err) { if (isErrorCode(err, 'ERR_KEY_FILE_EXISTS')) ... }
 */
export class KeyStoreError extends EdgeNetError {
  declare readonly code: KeyStoreErrorCode

  constructor (code: KeyStoreErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'KeyStoreError'
  }
}

/** The file mode of a new key file: owner read and write only. @example (await stat(path)).mode & 0o777 // 0o600 */
export const KEY_FILE_MODE = 0o600
/** The mode of a key directory this store creates: owner only. */
const KEY_DIR_MODE = 0o700

function errnoCode (err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined
}

/**
 * A {@link KeyStore} holding identity bytes in one file.
 *
 * @example
 * const store = new KeyFileStore(join(homedir(), '.edge-net', 'identity'))
 * const me = await loadOrCreateIdentity(store)
 */
export class KeyFileStore implements KeyStore {
  /** The path of the key file. */
  readonly path: string

  constructor (path: string) {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('KeyFileStore needs a file path')
    this.path = path
  }

  /**
   * The file's bytes, or null if there is no file. Throws KeyStoreError
   * ERR_KEY_FILE_PERMISSIONS if group or others have any access to it (POSIX only: Windows
   * file modes do not express this), ERR_KEY_FILE_IO for other file system failures.
   *
   * @example
   * const bytes = await store.load() // Uint8Array | null
   */
  async load (): Promise<Uint8Array | null> {
    let handle
    try {
      handle = await open(this.path, 'r')
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return null
      throw new KeyStoreError('ERR_KEY_FILE_IO', `cannot open key file ${this.path}`, { cause: err })
    }
    try {
      // fstat on the open handle, not stat on the path, so the mode checked is the file read.
      const stat = await handle.stat()
      if (!stat.isFile()) throw new KeyStoreError('ERR_KEY_FILE_IO', `key file ${this.path} is not a regular file`)
      if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
        throw new KeyStoreError('ERR_KEY_FILE_PERMISSIONS',
          `key file ${this.path} has mode ${(stat.mode & 0o777).toString(8)}: group or others can access it; run chmod 600`)
      }
      const buffer = await handle.readFile()
      return new Uint8Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength))
    } catch (err) {
      if (err instanceof KeyStoreError) throw err
      throw new KeyStoreError('ERR_KEY_FILE_IO', `cannot read key file ${this.path}`, { cause: err })
    } finally {
      await handle.close()
    }
  }

  /**
   * Write the bytes to a new file with mode 0o600, creating the parent directory (mode 0o700)
   * if needed; the file appears whole or not at all. Throws KeyStoreError ERR_KEY_FILE_EXISTS if
   * the file exists (it is left untouched), ERR_KEY_FILE_IO for other failures.
   *
   * @example
   * await store.save(await identity.export())
   */
  async save (bytes: Uint8Array): Promise<void> {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('save() takes a Uint8Array')
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: KEY_DIR_MODE })
    } catch (err) {
      throw new KeyStoreError('ERR_KEY_FILE_IO', `cannot create the directory of ${this.path}`, { cause: err })
    }
    const temporary = `${this.path}.${randomUUID()}.tmp`
    await writeNewFile(temporary, bytes)
    try {
      await link(temporary, this.path)
    } catch (err) {
      const code = errnoCode(err)
      if (code === 'EEXIST') {
        throw new KeyStoreError('ERR_KEY_FILE_EXISTS', `key file ${this.path} already exists; refusing to overwrite it`, { cause: err })
      }
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') {
        throw new KeyStoreError('ERR_KEY_FILE_IO', `cannot create key file ${this.path}`, { cause: err })
      }
      // A file system without hard links (some network or FAT mounts): create the target
      // exclusively and write it in place; still never overwrites, only loses the atomicity.
      await writeNewFile(this.path, bytes)
    } finally {
      await unlink(temporary).catch(() => {})
    }
  }
}

/** Create `path` exclusively with mode 0o600 and write `bytes` durably; remove it on failure. */
async function writeNewFile (path: string, bytes: Uint8Array): Promise<void> {
  let handle
  try {
    handle = await open(path, 'wx', KEY_FILE_MODE)
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') {
      throw new KeyStoreError('ERR_KEY_FILE_EXISTS', `key file ${path} already exists; refusing to overwrite it`, { cause: err })
    }
    throw new KeyStoreError('ERR_KEY_FILE_IO', `cannot create key file ${path}`, { cause: err })
  }
  try {
    await handle.writeFile(bytes)
    await handle.sync() // durable before we report success: a lost key is a lost identity
    await handle.close()
  } catch (err) {
    await handle.close().catch(() => {})
    // We created this file a moment ago, so it is ours to remove.
    await unlink(path).catch(() => {})
    throw new KeyStoreError('ERR_KEY_FILE_IO', `cannot write key file ${path}`, { cause: err })
  }
}
