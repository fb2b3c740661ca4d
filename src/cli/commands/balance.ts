/**
 * `edge-net balance`: this identity's account as the local ledger sees it (what the node has
 * synced; a node that is behind shows an older balance).
 */
import type { CommandSpec } from '../args.ts'
import { table } from '../output.ts'

/**
 * The balance command.
 *
 * @example
 * edge-net balance --json   # {"nodeId":"en…","balance":"10000000",…}
 */
export const balance: CommandSpec = {
  name: 'balance',
  summary: 'this node\'s credits, stake and reputation, from the local ledger',
  args: '',
  description: 'Amounts are credits in human output and micro-credits (decimal strings) with --json.\n' +
    'trial: spend-only trial credits; reserved: escrowed for tasks; effectiveStake: own stake\n' +
    'plus stake delegated to this node.',
  options: {},
  positionals: { min: 0, max: 0 },
  json: true,
  async run (ctx) {
    const { formatCredits } = await import('../../core/economy/index.ts')
    const { openDataDir } = await import('../data-dir.ts')
    const data = await openDataDir(ctx.dataDir)
    const ledger = await data.openLedger({ create: false })
    try {
      const account = ledger.account(data.identity.publicKey)
      const rep = ledger.reputation(data.identity.publicKey)
      const amounts = {
        balance: account.balance,
        trial: account.trial,
        reserved: account.reserved,
        staked: account.staked,
        effectiveStake: account.effectiveStake,
        earned: account.earned,
        slashed: account.slashed
      }
      const reputation = { tier: rep.tier, composite: rep.composite, accuracy: rep.accuracy, uptime: rep.uptime, confidence: rep.confidence, observers: rep.observers }
      ctx.out.result({ nodeId: data.identity.nodeId, networkId: data.network.networkId, ...amounts, reputation }, () => table([
        ['node id', data.identity.nodeId],
        ...Object.entries(amounts).map(([k, v]) => [k, formatCredits(v)] as const),
        ['reputation', `${rep.tier} (score ${rep.composite.toFixed(3)}, ${rep.observers} observers)`]
      ]))
    } finally {
      await ledger.close()
    }
    return 0
  }
}
