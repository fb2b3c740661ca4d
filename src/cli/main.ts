#!/usr/bin/env node
/**
 * `edge-net`: the command line. Finds the command in the table (src/cli/commands/index.ts),
 * parses its flags strictly, runs it, and turns any failure into one line on stderr,
 * `edge-net: ERR_CODE: message`, with exit code 2 for a usage error and 1 otherwise (the stack
 * only with EDGE_NET_DEBUG=1). docs/cli.md documents every command.
 */
import { readFileSync } from 'node:fs'
import { commandHelp, commandListHelp, parseCommandArgs, resolveDataDir } from './args.ts'
import type { CommandSpec } from './args.ts'
import { COMMANDS } from './commands/index.ts'
import { usageError } from './errors.ts'
import { Output, describeError } from './output.ts'
import type { CliIo } from './output.ts'

/** The package version, for `edge-net --version`. */
function version (): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

/**
 * The command `argv` names (longest match of its leading words) and the arguments after it, or
 * the group it names without a subcommand.
 */
function findCommand (commands: readonly CommandSpec[], argv: readonly string[]): { command: CommandSpec, rest: string[] } | { group: string, rest: string[] } {
  const byLength = [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
  for (const command of byLength) {
    const words = command.name.split(' ')
    if (words.every((w, i) => argv[i] === w)) return { command, rest: argv.slice(words.length) }
  }
  const first = argv[0] as string
  if (commands.some(c => c.name.startsWith(first + ' '))) return { group: first, rest: argv.slice(1) }
  throw usageError(`unknown command "${first}" (see edge-net --help)`)
}

/**
 * Run the CLI on `argv` (without the node and script paths) and resolve to the exit code. Never
 * throws: every failure is written to `io.stderr` as one line.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2))
 */
export async function main (argv: readonly string[], io: CliIo = processIo(), commands: readonly CommandSpec[] = COMMANDS): Promise<number> {
  const debug = io.env.EDGE_NET_DEBUG === '1'
  try {
    const first = argv[0]
    if (first === undefined) throw usageError('no command given (see edge-net --help)')
    if (first === '--help' || first === '-h' || first === 'help') {
      io.stdout.write(commandListHelp(commands))
      return 0
    }
    if (first === '--version' || first === '-v') {
      io.stdout.write(`edge-net ${version()}\n`)
      return 0
    }
    if (first.startsWith('-')) throw usageError(`unknown option "${first}" before the command (see edge-net --help)`)
    const found = findCommand(commands, argv)
    if ('group' in found) {
      const next = found.rest[0]
      if (next === '--help' || next === '-h') {
        io.stdout.write(commandListHelp(commands, found.group))
        return 0
      }
      const names = commands.filter(c => c.name.startsWith(found.group + ' ')).map(c => c.name.split(' ')[1]).join(', ')
      throw usageError(next === undefined
        ? `edge-net ${found.group} needs a subcommand: ${names}`
        : `unknown command "${found.group} ${next}" (edge-net ${found.group} has: ${names})`)
    }
    const { command, rest } = found
    const { flags, positionals, help } = parseCommandArgs(command, rest)
    if (help) {
      io.stdout.write(commandHelp(command))
      return 0
    }
    const json = command.json === true && flags.boolean('json')
    const dataDir = resolveDataDir(flags.string('data'), io.env)
    const code = await command.run({ command, flags, positionals, json, dataDir, out: new Output(io, json), io })
    return code ?? 0
  } catch (err) {
    const { line, exitCode, stack } = describeError(err, { debug })
    io.stderr.write(line + '\n')
    if (stack !== null) io.stderr.write(stack + '\n')
    return exitCode
  }
}

/** The process's own streams and environment. @example await main(argv, processIo()) */
export function processIo (): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }
}

// Run when executed (`edge-net …`, `node src/cli/main.ts …`), not when imported by a test.
if (import.meta.main === true) {
  // exitCode rather than exit(): let stdout drain when it is a pipe.
  process.exitCode = await main(process.argv.slice(2))
}
