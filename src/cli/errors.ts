/**
 * Errors of the `edge-net` command line: usage mistakes, a data directory that cannot be used,
 * a malformed network file. Each has a stable code; the CLI prints `edge-net: CODE: message` and
 * exits 2 for {@link CliError} `ERR_USAGE`, 1 for everything else (docs/cli.md).
 */
import { EdgeNetError } from '../core/errors.ts'

/**
 * Every code a {@link CliError} can carry.
 *
 * @example
 * CLI_ERROR_CODES.includes(err.code)
 */
export const CLI_ERROR_CODES = [
  /** An unknown command or flag, a missing or extra argument, a flag value of the wrong form. Exit 2. */
  'ERR_USAGE',
  /** The data directory has no identity.key yet: run `edge-net keygen`. */
  'ERR_NO_IDENTITY',
  /** network.json is not valid JSON or does not describe a network (see docs/cli.md). */
  'ERR_BAD_NETWORK_FILE',
  /** The data directory, or a file named on the command line, cannot be read or written. */
  'ERR_FILE_IO',
  /** A failure nobody planned for (a bug): reported with its message, the stack with EDGE_NET_DEBUG=1. */
  'ERR_INTERNAL',
  /** A running node uses this data directory (one identity signs from one process only, or it equivocates). */
  'ERR_NODE_RUNNING',
  /** Fewer staked workers than the task's redundancy were live in time. */
  'ERR_NO_WORKERS'
] as const

/** One of {@link CLI_ERROR_CODES}. @example const code: CliErrorCode = 'ERR_USAGE' */
export type CliErrorCode = typeof CLI_ERROR_CODES[number]

/**
 * A failure of the command line itself (not of the ledger, store or key file it drives).
 *
 * @example
 * throw new CliError('ERR_USAGE', 'unknown command "frobnicate"')
 */
export class CliError extends EdgeNetError {
  declare readonly code: CliErrorCode

  constructor (code: CliErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'CliError'
  }
}

/**
 * A usage error (exit 2): shorthand for `new CliError('ERR_USAGE', message)`.
 *
 * @example
 * if (file === undefined) throw usageError('ledger export needs a FILE (or - for stdout)')
 */
export function usageError (message: string): CliError {
  return new CliError('ERR_USAGE', message)
}
