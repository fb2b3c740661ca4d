/**
 * The crash child: `node child.ts <dbPath> <workloadModule> <seed> [args…]`. Opens a
 * SqliteEventStore on <dbPath>, imports <workloadModule> and runs its `run(context)`, printing
 * `ack <idhex>` for each acknowledged event and `note <text>` for the check, one line each, until
 * the parent SIGKILLs it. Deliberately tiny: every millisecond of start-up is paid once per kill.
 *
 * stdout is a pipe, and Node writes to pipes synchronously on POSIX, so a line is in the kernel's
 * pipe buffer before `ack` returns; one batch's lines go out in one write() call.
 */

import { pathToFileURL } from 'node:url'
import { SqliteEventStore } from '../../../src/adapters/sqlite/event-store.ts'
import { toHex } from '../../../src/core/bytes.ts'
import type { StoredEvent } from '../../../src/ports.ts'
import type { WorkloadContext } from './workload.ts'

const [dbPath, workloadPath, seedText, ...args] = process.argv.slice(2)
if (dbPath === undefined || workloadPath === undefined || seedText === undefined) {
  process.stderr.write('usage: child.ts <dbPath> <workloadModule> <seed> [args…]\n')
  process.exit(2)
}

// Never outlive the parent: an orphaned child would append (and buffer acks nobody reads) for
// minutes. Exit if our parent changes (re-parenting on its death), the pipe breaks, or after a
// minute, far beyond the harness's kill delay.
const parent = process.ppid
process.stdout.on('error', () => process.exit(3))
setTimeout(() => process.exit(4), 60_000).unref()

const workload = await import(pathToFileURL(workloadPath).href) as { run: (context: WorkloadContext) => Promise<void> }
const store = SqliteEventStore.open(dbPath)
const context: WorkloadContext = {
  store,
  seed: Number(seedText),
  args,
  ack: (events: readonly StoredEvent[]) => {
    if (process.ppid !== parent) process.exit(5)
    let lines = ''
    for (const e of events) lines += `ack ${toHex(e.id)}\n`
    process.stdout.write(lines)
  },
  note: (text: string) => { process.stdout.write(`note ${text.replace(/\n/g, ' ')}\n`) }
}
await workload.run(context)
await store.close()
process.stdout.write('done\n')
