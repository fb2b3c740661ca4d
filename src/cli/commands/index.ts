/**
 * The command table of `edge-net`. To add a command: write src/cli/commands/NAME.ts exporting a
 * `CommandSpec` (see src/cli/args.ts) and add one line below. Order is the order of `--help`.
 *
 * Keep the top-level imports of a command file light (types, src/cli/args.ts, output.ts,
 * errors.ts): import the core, SQLite or libp2p inside `run()` with `await import(...)`, so that
 * `--help`, usage errors and the other commands do not pay for loading them.
 */
import type { CommandSpec } from '../args.ts'
import { keygen } from './keygen.ts'
import { balance } from './balance.ts'
import { status } from './status.ts'
import { ledgerExport, ledgerVerify } from './ledger.ts'
import { node } from './node.ts'
import { demo } from './demo.ts'
import { submit } from './submit.ts'

/**
 * Every command, in help order.
 *
 * @example
 * const verify = COMMANDS.find(c => c.name === 'ledger verify')
 */
export const COMMANDS: readonly CommandSpec[] = [
  node,
  demo,
  submit,
  keygen,
  balance,
  status,
  ledgerExport,
  ledgerVerify
]
