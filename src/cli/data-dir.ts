/**
 * A node's data directory (default `~/.edge-net`), shared by the CLI's commands and the networked
 * node host:
 *
 * | file | what | written by |
 * | --- | --- | --- |
 * | identity.key | the node's secret keys (mode 0600, never overwritten) | `keygen` (KeyFileStore) |
 * | network.json | the network's id, genesis and rules (network-file.ts) | `keygen`, or by hand |
 * | ledger.sqlite | the event log (SqliteEventStore, WAL) | the running node, tests |
 * | node.json | pid, listen addresses and dashboard URL of the running node | the running node |
 */
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { Identity, loadOrCreateIdentity } from '../core/identity/index.ts'
import { Ledger } from '../core/ledger/index.ts'
import type { LedgerConfig } from '../core/ledger/index.ts'
import { KeyFileStore } from '../adapters/keyfile/key-file-store.ts'
import { SqliteEventStore } from '../adapters/sqlite/event-store.ts'
import type { SqliteEventStoreOptions } from '../adapters/sqlite/event-store.ts'
import { CliError } from './errors.ts'
import { defaultNetwork, ledgerConfigOf, parseNetworkFile, serializeNetworkFile } from './network-file.ts'
import type { NetworkFile } from './network-file.ts'

/**
 * The paths of a data directory's files.
 *
 * @example
 * dataDirPaths('/srv/edge').ledger === '/srv/edge/ledger.sqlite'
 */
export interface DataDirPaths {
  readonly dir: string
  readonly identity: string
  readonly network: string
  readonly ledger: string
  readonly nodeInfo: string
}

/** @example const paths = dataDirPaths(ctx.dataDir) */
export function dataDirPaths (dir: string): DataDirPaths {
  return {
    dir,
    identity: join(dir, 'identity.key'),
    network: join(dir, 'network.json'),
    ledger: join(dir, 'ledger.sqlite'),
    nodeInfo: join(dir, 'node.json')
  }
}

/** An opened data directory. See {@link openDataDir}. @example const { identity, openLedger } = await openDataDir(dir) */
export interface DataDir {
  readonly paths: DataDirPaths
  readonly identity: Identity
  readonly network: NetworkFile
  /** network.json exists (false: the default network is in force and the file was not written). */
  readonly networkFileExists: boolean
  /** What to pass to `Ledger.open({ config })` / `Ledger.create({ config })`. */
  readonly ledgerConfig: Partial<LedgerConfig> & { networkId: string }
  /**
   * Open the SQLite ledger (replaying it). With `{ create: false }` and no ledger file yet, an
   * empty in-memory ledger is returned instead and nothing is written. Close it when done.
   */
  openLedger (options?: { create?: boolean, store?: SqliteEventStoreOptions }): Promise<Ledger>
}

function errno (err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined
}

async function exists (path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if (errno(err) === 'ENOENT') return false
    throw new CliError('ERR_FILE_IO', `cannot stat ${path}`, { cause: err })
  }
}

/**
 * Create the data directory (mode 0700: it holds a secret key) if it does not exist.
 *
 * @example
 * await ensureDataDir(paths)
 */
export async function ensureDataDir (paths: DataDirPaths): Promise<void> {
  try {
    await mkdir(paths.dir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new CliError('ERR_FILE_IO', `cannot create data directory ${paths.dir}`, { cause: err })
  }
}

/**
 * Read network.json; the default network if there is none. Throws ERR_BAD_NETWORK_FILE for a
 * malformed file, ERR_FILE_IO if it cannot be read.
 *
 * @example
 * const { network, exists } = await readNetwork(paths)
 */
export async function readNetwork (paths: DataDirPaths): Promise<{ network: NetworkFile, exists: boolean }> {
  let text: string
  try {
    text = await readFile(paths.network, 'utf8')
  } catch (err) {
    if (errno(err) === 'ENOENT') return { network: defaultNetwork(), exists: false }
    throw new CliError('ERR_FILE_IO', `cannot read ${paths.network}`, { cause: err })
  }
  return { network: parseNetworkFile(text, paths.network), exists: true }
}

/**
 * Write network.json if there is none (never replaces one: it must match the rest of the
 * network); returns the network in force.
 *
 * @example
 * const network = await ensureNetworkFile(paths)
 */
export async function ensureNetworkFile (paths: DataDirPaths, network: NetworkFile = defaultNetwork()): Promise<NetworkFile> {
  const current = await readNetwork(paths)
  if (current.exists) return current.network
  try {
    await writeAtomically(paths.network, serializeNetworkFile(network), { exclusive: true, mode: 0o644 })
  } catch (err) {
    if (errno(err) === 'EEXIST') return (await readNetwork(paths)).network // someone else just wrote it
    throw new CliError('ERR_FILE_IO', `cannot write ${paths.network}`, { cause: err })
  }
  return network
}

/**
 * Load the node's identity. Throws CliError ERR_NO_IDENTITY if there is none yet, and the key
 * store's or identity's own errors (ERR_KEY_FILE_PERMISSIONS, ERR_BAD_IDENTITY_FILE) otherwise.
 *
 * @example
 * const me = await loadIdentity(paths)
 */
export async function loadIdentity (paths: DataDirPaths): Promise<Identity> {
  const bytes = await new KeyFileStore(paths.identity).load()
  if (bytes === null) throw new CliError('ERR_NO_IDENTITY', `no identity in ${paths.dir}; run: edge-net keygen --data ${paths.dir}`)
  return await Identity.import(bytes)
}

/**
 * Open a data directory: its identity, its network and a way to open its ledger. With
 * `{ create: true }` (what a node does on first start) a missing directory, identity or
 * network.json is created; otherwise a missing identity is ERR_NO_IDENTITY.
 *
 * @example
 * const data = await openDataDir('/srv/edge', { create: true })
 * const ledger = await data.openLedger()
 * console.log(data.identity.nodeId, ledger.stateRootHex())
 * await ledger.close()
 */
export async function openDataDir (dir: string, options: { create?: boolean } = {}): Promise<DataDir> {
  const paths = dataDirPaths(dir)
  let identity: Identity
  let network: NetworkFile
  let networkFileExists: boolean
  if (options.create === true) {
    await ensureDataDir(paths)
    identity = await loadOrCreateIdentity(new KeyFileStore(paths.identity))
    network = await ensureNetworkFile(paths)
    networkFileExists = true
  } else {
    const read = await readNetwork(paths)
    network = read.network
    networkFileExists = read.exists
    identity = await loadIdentity(paths)
  }
  const ledgerConfig = ledgerConfigOf(network)
  return {
    paths,
    identity,
    network,
    networkFileExists,
    ledgerConfig,
    async openLedger (ledgerOptions: { create?: boolean, store?: SqliteEventStoreOptions } = {}): Promise<Ledger> {
      if (ledgerOptions.create === false && !(await exists(paths.ledger))) return Ledger.create({ config: ledgerConfig })
      const store = SqliteEventStore.open(paths.ledger, ledgerOptions.store ?? {})
      try {
        return await Ledger.open({ config: ledgerConfig, store })
      } catch (err) {
        await store.close().catch(() => {})
        throw err
      }
    }
  }
}

/**
 * What a running node publishes about itself in node.json, for `edge-net status`.
 *
 * @example
 * await writeNodeInfo(paths, { pid: process.pid, nodeId, networkId, listen: addrs, dashboard: null, startedAt: Date.now() })
 */
export interface NodeInfo {
  pid: number
  nodeId: string
  networkId: string
  listen: string[]
  /** The dashboard URL, or null when it is off. */
  dashboard: string | null
  /** Milliseconds since the epoch. */
  startedAt: number
}

/**
 * Publish node.json (atomically: a reader sees the old file or the new one, never half).
 *
 * @example
 * await writeNodeInfo(paths, info); onShutdown(() => removeNodeInfo(paths, process.pid))
 */
export async function writeNodeInfo (paths: DataDirPaths, info: NodeInfo): Promise<void> {
  try {
    await writeAtomically(paths.nodeInfo, JSON.stringify(info, null, 2) + '\n', { exclusive: false, mode: 0o644 })
  } catch (err) {
    throw new CliError('ERR_FILE_IO', `cannot write ${paths.nodeInfo}`, { cause: err })
  }
}

/**
 * node.json, or null if there is none or it is not one a node wrote (a stale or partial file is
 * not worth failing `status` for).
 *
 * @example
 * const info = await readNodeInfo(paths); if (info !== null && isProcessAlive(info.pid)) ...
 */
export async function readNodeInfo (paths: DataDirPaths): Promise<NodeInfo | null> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(paths.nodeInfo, 'utf8'))
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const v = value as Record<string, unknown>
  if (!Number.isSafeInteger(v.pid) || (v.pid as number) <= 0 || typeof v.nodeId !== 'string' || typeof v.networkId !== 'string' ||
      !Array.isArray(v.listen) || !v.listen.every(a => typeof a === 'string') ||
      (v.dashboard !== null && typeof v.dashboard !== 'string') || typeof v.startedAt !== 'number') return null
  return { pid: v.pid as number, nodeId: v.nodeId, networkId: v.networkId, listen: v.listen as string[], dashboard: v.dashboard as string | null, startedAt: v.startedAt }
}

/**
 * Remove node.json if it is still the one process `pid` wrote (a newer node may have replaced it).
 *
 * @example
 * await removeNodeInfo(paths, process.pid)
 */
export async function removeNodeInfo (paths: DataDirPaths, pid: number): Promise<void> {
  const info = await readNodeInfo(paths)
  if (info !== null && info.pid !== pid) return
  await unlink(paths.nodeInfo).catch(() => {})
}

/**
 * Whether a process with this pid exists (signal 0, POSIX kill(2): checks without signalling).
 *
 * @example
 * isProcessAlive(process.pid) === true
 */
export function isProcessAlive (pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return errno(err) === 'EPERM' // exists, but belongs to someone else
  }
}

/**
 * Move a file aside to `${path}.bak-<ISO time>` without ever replacing an existing backup
 * (link(2) fails with EEXIST, then the original is unlinked). Returns the backup path.
 *
 * @example
 * const backup = await moveAside(paths.identity, new Date())
 */
export async function moveAside (path: string, when: Date): Promise<string> {
  const stamp = when.toISOString().replace(/[:.]/g, '-')
  for (let attempt = 0; ; attempt++) {
    const backup = `${path}.bak-${stamp}${attempt === 0 ? '' : '-' + attempt}`
    try {
      await link(path, backup)
    } catch (err) {
      if (errno(err) === 'EEXIST' && attempt < 100) continue
      if (errno(err) === 'EEXIST' || (errno(err) !== 'EPERM' && errno(err) !== 'ENOTSUP' && errno(err) !== 'EOPNOTSUPP')) {
        throw new CliError('ERR_FILE_IO', `cannot back up ${path} to ${backup}`, { cause: err })
      }
      // No hard links on this file system: rename, after checking the name is free.
      if (await exists(backup)) continue
      try { await rename(path, backup) } catch (e) { throw new CliError('ERR_FILE_IO', `cannot back up ${path}`, { cause: e }) }
      return backup
    }
    try { await unlink(path) } catch (err) { throw new CliError('ERR_FILE_IO', `cannot remove ${path} after backing it up`, { cause: err }) }
    return backup
  }
}

/** Write `text` to a temporary file, fsync it, then rename it over (or, if exclusive, link it to) `path`. */
async function writeAtomically (path: string, text: string, options: { exclusive: boolean, mode: number }): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`
  const handle = await open(temporary, 'wx', options.mode)
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    if (options.exclusive) await link(temporary, path)
    else await rename(temporary, path)
  } finally {
    await unlink(temporary).catch(() => {})
  }
}
