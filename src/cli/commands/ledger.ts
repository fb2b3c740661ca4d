/**
 * `edge-net ledger export FILE` and `edge-net ledger verify FILE`: the whole local ledger as one
 * self-checking file (format: src/cli/ledger-file.ts and docs/cli.md), and the check that
 * refuses any tampered, truncated or reordered one.
 */
import { fromHex, toHex } from '../../core/bytes.ts'
import type { CommandSpec } from '../args.ts'
import { usageError } from '../errors.ts'
import { readInput, writeOutput } from '../files.ts'
import { table } from '../output.ts'
import type { Progress } from '../output.ts'

/**
 * The ledger export command.
 *
 * @example
 * edge-net ledger export backup.enx --data ./node-a
 */
export const ledgerExport: CommandSpec = {
  name: 'ledger export',
  summary: 'write every event of the local ledger to FILE (- for stdout)',
  args: 'FILE',
  description: 'The file holds the network rules, the events in the ledger\'s own order, the state root\n' +
    'and a SHA-256 of it all; check it with edge-net ledger verify. FILE is replaced atomically.',
  options: {},
  positionals: { min: 1, max: 1 },
  json: true,
  async run (ctx) {
    const file = ctx.positionals[0] as string
    if (file === '-' && ctx.json) throw usageError('ledger export - writes the export to stdout, so it cannot also print --json there')
    const { openDataDir } = await import('../data-dir.ts')
    const { encodeLedgerExport } = await import('../ledger-file.ts')
    const data = await openDataDir(ctx.dataDir)
    const ledger = await data.openLedger({ create: false })
    let bytes: number
    let root: string
    try {
      root = ledger.stateRootHex()
      const chunks = encodeLedgerExport(ledger)
      bytes = await writeOutput(file, chunks, ctx.io)
      const result = { file, events: ledger.size, bytes, stateRoot: root, networkId: ledger.config.networkId }
      if (file === '-') ctx.out.note(`exported ${ledger.size} events (${bytes} bytes), state root ${root}`)
      else ctx.out.result(result, () => table([['exported', `${ledger.size} events to ${file}`], ['bytes', String(bytes)], ['state root', root]]))
    } finally {
      await ledger.close()
    }
    return 0
  }
}

/**
 * The ledger verify command.
 *
 * @example
 * edge-net ledger verify backup.enx --json   # {"ok":true,"events":12,"stateRoot":"…"}
 */
export const ledgerVerify: CommandSpec = {
  name: 'ledger verify',
  summary: 'check an export FILE (- for stdin): framing, digest, order, every event, state root',
  args: 'FILE',
  description: 'Replays every event into a fresh in-memory ledger under the file\'s own network rules.\n' +
    'Exit 0 if the file is intact; 1 with one of ERR_EXPORT_* otherwise (docs/cli.md).\n' +
    'It needs no data directory.',
  options: {
    'expect-root': { type: 'string', value: 'HEX', description: 'also require this state root (e.g. from edge-net status on another node)' }
  },
  positionals: { min: 1, max: 1 },
  json: true,
  async run (ctx) {
    const file = ctx.positionals[0] as string
    const expectText = ctx.flags.string('expect-root')
    let expectRoot: Uint8Array | undefined
    if (expectText !== undefined) {
      const raw = /^[0-9a-fA-F]{64}$/.test(expectText) ? fromHex(expectText.toLowerCase()) : null
      if (raw === null) throw usageError('--expect-root must be 64 hex digits')
      expectRoot = raw
    }
    const { formatCredits } = await import('../../core/economy/index.ts')
    const { verifyLedgerExport } = await import('../ledger-file.ts')
    const bytes = await readInput(file, ctx.io)
    let bar: Progress | null = null
    let verified
    try {
      verified = await verifyLedgerExport(bytes, {
        ...(expectRoot !== undefined ? { expectRoot } : {}),
        onProgress: (done, total) => { (bar ??= ctx.out.progress('verify', total)).update(done) }
      })
    } finally {
      (bar as Progress | null)?.finish()
    }
    const totals = verified.ledger.totals()
    const root = toHex(verified.stateRoot)
    ctx.out.result({
      ok: true,
      file,
      events: verified.count,
      stateRoot: root,
      networkId: verified.network.networkId,
      minted: totals.minted,
      burned: totals.burned,
      accounts: totals.accounts
    }, () => table([
      ['verified', `${verified.count} events in ${file}`],
      ['network', verified.network.networkId],
      ['state root', root],
      ['minted', formatCredits(totals.minted)],
      ['accounts', String(totals.accounts)]
    ]))
    await verified.ledger.close()
    return 0
  }
}
