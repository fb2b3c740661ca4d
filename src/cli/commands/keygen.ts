/**
 * `edge-net keygen`: create this node's identity in the data directory (identity.key, mode 0600)
 * and a default network.json if there is none. An existing identity is never overwritten unless
 * --force is given, and then it is kept as identity.key.bak-<time>: a lost key is lost credits.
 */
import { toHex } from '../../core/bytes.ts'
import { isErrorCode } from '../../core/errors.ts'
import type { CommandSpec } from '../args.ts'
import { table } from '../output.ts'

/**
 * The keygen command.
 *
 * @example
 * edge-net keygen --data ./node-a        # prints the node id and public key
 */
export const keygen: CommandSpec = {
  name: 'keygen',
  summary: 'create this node\'s identity (and a default network.json)',
  args: '',
  description: 'Writes DIR/identity.key (mode 0600) and, if absent, DIR/network.json for the local\n' +
    'network "edge-net-local". Refuses to replace an existing identity unless --force is given;\n' +
    'then the old key is kept as identity.key.bak-<time>.',
  options: {
    force: { type: 'boolean', description: 'replace an existing identity (the old one is backed up)' }
  },
  positionals: { min: 0, max: 0 },
  json: true,
  async run (ctx) {
    // Loaded on use, so `--help` and the other commands do not pay for the core's import.
    const { Identity } = await import('../../core/identity/index.ts')
    const { KeyFileStore, KeyStoreError } = await import('../../adapters/keyfile/key-file-store.ts')
    const { dataDirPaths, ensureDataDir, ensureNetworkFile, moveAside } = await import('../data-dir.ts')
    const paths = dataDirPaths(ctx.dataDir)
    await ensureDataDir(paths)
    const store = new KeyFileStore(paths.identity)
    const identity = await Identity.generate()
    const bytes = await identity.export()
    let backup: string | null = null
    if (ctx.flags.boolean('force') && (await store.load().catch(() => 'unreadable')) !== null) {
      // Even an unreadable key is moved aside rather than deleted: it may still be recoverable.
      backup = await moveAside(paths.identity, new Date())
    }
    try {
      await store.save(bytes)
    } catch (err) {
      if (isErrorCode(err, 'ERR_KEY_FILE_EXISTS')) {
        throw new KeyStoreError('ERR_KEY_FILE_EXISTS', `${paths.identity} already exists; keep it, or run keygen --force to replace it (the old key is backed up)`)
      }
      throw err
    }
    const network = await ensureNetworkFile(paths)
    ctx.out.result({
      nodeId: identity.nodeId,
      publicKey: toHex(identity.publicKey),
      identityFile: paths.identity,
      backup,
      networkId: network.networkId
    }, () => table([
      ['node id', identity.nodeId],
      ['public key', toHex(identity.publicKey)],
      ['identity', paths.identity],
      ...(backup !== null ? [['old key kept as', backup] as const] : []),
      ['network', network.networkId]
    ]))
    return 0
  }
}
