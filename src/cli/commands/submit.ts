/**
 * `edge-net submit`: pay for one task from this identity and print its verified output. It joins
 * the network as a short-lived node that does no work (this data directory's identity and ledger),
 * waits until enough staked workers are live, submits, and leaves once the task is settled.
 */
import type { TaskType } from '../../core/economy/index.ts'
import type { NodeHost as Host } from '../../host/node-host.ts'
import type { CommandSpec } from '../args.ts'
import { CliError, usageError } from '../errors.ts'
import { table } from '../output.ts'

/**
 * The submit command.
 *
 * @example
 * edge-net submit --type encryption --payload task.cbor --connect /ip4/127.0.0.1/tcp/4001/p2p/12D3K... --out result.cbor
 */
export const submit: CommandSpec = {
  name: 'submit',
  summary: 'pay for one task and print its verified output',
  args: '',
  description: 'The payload is the kernel\'s canonical CBOR (docs/kernels.md; the SDK\'s encode helpers write it).\n' +
    'The task is escrowed from this identity\'s credits (at most --max-credits), run by --redundancy\n' +
    'staked workers, verified, settled, and its output written to --out (or printed as base64).\n' +
    'Refuses to run on a data directory a running node uses: one identity, one process.',
  options: {
    type: { type: 'string', value: 'TYPE', description: 'task type (encryption, compression, vector_search, ...)' },
    payload: { type: 'string', value: 'FILE', description: 'the payload file, or - for stdin' },
    redundancy: { type: 'string', value: 'N', description: 'workers that run it (default 3)' },
    'max-credits': { type: 'string', value: 'C', description: 'most to pay, in credits (default the table price × redundancy)' },
    connect: { type: 'string', multiple: true, value: 'ADDR', description: 'a node\'s multiaddr with /p2p/<id> (repeatable; default: find nodes by mDNS)' },
    timeout: { type: 'string', value: 'MS', description: 'task lifetime in ms (default 30000)' },
    'wait-peers': { type: 'string', value: 'MS', description: 'how long to wait for enough live workers (default 20000)' },
    out: { type: 'string', value: 'FILE', description: 'write the raw output here (- for stdout)' }
  },
  positionals: { min: 0, max: 0 },
  json: true,
  async run (ctx) {
    const { TASK_TYPES, formatCredits } = await import('../../core/economy/index.ts')
    const { toHex } = await import('../../core/bytes.ts')
    const { NodeHost } = await import('../../host/node-host.ts')
    const { isProcessAlive, openDataDir, readNodeInfo } = await import('../data-dir.ts')
    const { readInput, writeOutput } = await import('../files.ts')
    const f = ctx.flags
    const type = f.string('type')
    if (type === undefined || !(TASK_TYPES as readonly string[]).includes(type)) throw usageError(`--type must be one of ${TASK_TYPES.join(', ')}`)
    const payloadPath = f.string('payload')
    if (payloadPath === undefined) throw usageError('--payload FILE (or - for stdin) is required')
    const redundancy = f.integer('redundancy', { min: 1, max: 9 }) ?? 3
    const maxCredits = f.number('max-credits', { min: 0 })
    const timeout = f.integer('timeout', { min: 100, max: 3_600_000 }) ?? 30_000
    const waitPeers = f.integer('wait-peers', { min: 0, max: 600_000 }) ?? 20_000
    const payload = await readInput(payloadPath, ctx.io)

    const data = await openDataDir(ctx.dataDir)
    const running = await readNodeInfo(data.paths)
    if (running !== null && isProcessAlive(running.pid)) {
      throw new CliError('ERR_NODE_RUNNING', `a node (pid ${running.pid}) is running on ${data.paths.dir}; submit through another data directory, or stop it first`)
    }
    const ledger = await data.openLedger()
    const connect = f.strings('connect')
    let host: Host | undefined
    try {
      host = await NodeHost.start({ identity: data.identity, ledger, bootstrap: connect, mdns: connect.length === 0, work: false, stake: 0n, heartbeatMs: 1000 })
      const h = host
      const minStake = ledger.config.minStake
      const enough = (): boolean => h.presence.live().filter(p => ledger.account(p.id).staked >= minStake).length >= redundancy
      const end = Date.now() + waitPeers
      while (!enough() && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 100))
      if (!enough()) throw new CliError('ERR_NO_WORKERS', `fewer than ${redundancy} staked workers were live within ${waitPeers} ms (live: ${h.presence.live().length})`)
      const result = await h.node.submit({
        type: type as TaskType,
        payload,
        options: { redundancy, timeout, ...(maxCredits === undefined ? {} : { maxCredits }) }
      })
      const outPath = f.string('out')
      if (outPath !== undefined) await writeOutput(outPath, [result.output], ctx.io)
      const output = outPath === undefined ? Buffer.from(result.output).toString('base64') : null
      ctx.out.result({
        task: toHex(result.task),
        type,
        verified: result.verified,
        cost: result.cost,
        workers: result.workers.map(w => toHex(w)),
        outputBytes: result.output.length,
        ...(output === null ? { out: outPath } : { output })
      }, () => table([
        ['task', toHex(result.task)],
        ['verified', String(result.verified)],
        ['cost', `${formatCredits(result.cost)} credits`],
        ['workers', String(result.workers.length)],
        ['output', output === null ? `${result.output.length} bytes written to ${String(outPath)}` : `${result.output.length} bytes (base64) ${output.length > 120 ? output.slice(0, 120) + '…' : output}`]
      ]))
    } finally {
      await host?.stop().catch(() => {})
      await ledger.close().catch(() => {})
    }
    return 0
  }
}
