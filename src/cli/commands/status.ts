/**
 * `edge-net status`: what this data directory holds (identity, network, ledger size, state root,
 * totals) and, if a node is running on it (node.json names a live pid), where it listens.
 */
import type { CommandSpec } from '../args.ts'
import type { NodeInfo } from '../data-dir.ts'
import { table } from '../output.ts'

/**
 * The status command.
 *
 * @example
 * edge-net status --json   # {"nodeId":"en…","ledger":{"events":12,"stateRoot":"…",…},"node":null}
 */
export const status: CommandSpec = {
  name: 'status',
  summary: 'identity, network, local ledger and running node of a data directory',
  args: '',
  description: 'conservationGap is 0 while minted - burned equals the sum of all accounts (it should\n' +
    'always be). "node" is shown only while the process that wrote node.json is alive.',
  options: {},
  positionals: { min: 0, max: 0 },
  json: true,
  async run (ctx) {
    const { formatCredits } = await import('../../core/economy/index.ts')
    const { isProcessAlive, openDataDir, readNodeInfo } = await import('../data-dir.ts')
    const data = await openDataDir(ctx.dataDir)
    const info = await readNodeInfo(data.paths)
    const running: NodeInfo | null = info !== null && isProcessAlive(info.pid) ? info : null
    const ledger = await data.openLedger({ create: false })
    try {
      const totals = ledger.totals()
      const lastEventTime = ledger.size === 0 ? null : new Date(ledger.latestTime).toISOString()
      const result = {
        nodeId: data.identity.nodeId,
        networkId: data.network.networkId,
        dataDir: data.paths.dir,
        networkFile: data.networkFileExists ? data.paths.network : null,
        ledger: {
          events: ledger.size,
          stateRoot: ledger.stateRootHex(),
          lastEventTime,
          minted: totals.minted,
          burned: totals.burned,
          accounts: totals.accounts,
          conservationGap: totals.conservationGap
        },
        node: running
      }
      ctx.out.result(result, () => table([
        ['node id', result.nodeId],
        ['network', `${result.networkId}${data.networkFileExists ? '' : ' (default: no network.json)'}`],
        ['data dir', result.dataDir],
        ['events', String(ledger.size)],
        ['state root', result.ledger.stateRoot],
        ['last event', lastEventTime ?? 'none'],
        ['minted', formatCredits(totals.minted)],
        ['burned', formatCredits(totals.burned)],
        ['accounts', String(totals.accounts)],
        ['conservation gap', formatCredits(totals.conservationGap)],
        ['node', running === null ? 'not running' : `running, pid ${running.pid}, since ${new Date(running.startedAt).toISOString()}`],
        ...(running === null
          ? []
          : [
              ['listening on', running.listen.length === 0 ? 'none' : running.listen.join(', ')] as const,
              ['dashboard', running.dashboard ?? 'off'] as const
            ])
      ]))
    } finally {
      await ledger.close()
    }
    return 0
  }
}
