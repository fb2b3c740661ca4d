/**
 * The command framework of `edge-net`: what a command declares ({@link CommandSpec}), how its
 * arguments are parsed (`node:util` parseArgs, strict, so an unknown flag is a usage error and
 * exits 2), and how its help is written. A new command is one file exporting a `CommandSpec` plus
 * one line in src/cli/commands/index.ts.
 *
 * Flags every command takes: `--help`/`-h`, and `--data DIR` (the data directory: the flag, else
 * `$EDGE_NET_DATA`, else `~/.edge-net`). A command that sets `json: true` also takes `--json`.
 */
import { parseArgs } from 'node:util'
import type { ParseArgsOptionsConfig } from 'node:util'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { usageError } from './errors.ts'
import type { CliIo, Output } from './output.ts'

/**
 * One flag of a command. `value` names the argument in help (`--data DIR`) and is required for
 * string flags.
 *
 * @example
 * const force: OptionSpec = { type: 'boolean', description: 'replace an existing identity' }
 */
export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  /** A string flag that may be repeated (`--listen A --listen B`); read it with `flags.strings()`. */
  multiple?: boolean
  /** Placeholder in help, e.g. 'DIR', 'ADDR', 'N'. */
  value?: string
  description: string
}

/**
 * What a command runs with: its parsed flags and positionals, the resolved data directory, and
 * where to write.
 *
 * @example
 * async run (ctx) { ctx.out.result({ ok: true }, () => 'ok') }
 */
export interface CommandContext {
  /** The command being run. */
  readonly command: CommandSpec
  readonly flags: Flags
  readonly positionals: readonly string[]
  /** `--json` was given: print exactly one JSON object on stdout and nothing else there. */
  readonly json: boolean
  /** Absolute path of the data directory (`--data`, `$EDGE_NET_DATA` or `~/.edge-net`). */
  readonly dataDir: string
  readonly out: Output
  readonly io: CliIo
}

/**
 * A command. `name` is one word (`keygen`) or a group and a word (`ledger export`).
 *
 * @example
 * export const hello: CommandSpec = {
 *   name: 'hello', summary: 'say hello', args: '', options: {}, positionals: { min: 0, max: 0 },
 *   async run (ctx) { ctx.out.result({ hello: 'world' }, () => 'hello, world') }
 * }
 */
export interface CommandSpec {
  readonly name: string
  /** One line for the command list. */
  readonly summary: string
  /** The positional part of the usage line, e.g. 'FILE'. */
  readonly args: string
  /** Paragraphs shown under the usage line in `--help`. */
  readonly description?: string
  /** The command's own flags (the common ones are added). */
  readonly options: Readonly<Record<string, OptionSpec>>
  readonly positionals: { readonly min: number, readonly max: number }
  /** The command takes `--json`. */
  readonly json?: boolean
  /** Runs the command; resolves to the exit code (0 when it returns nothing). Throw to fail. */
  run (ctx: CommandContext): Promise<number | undefined>
}

/** Flags shared by every command. @example COMMON_OPTIONS.data.value === 'DIR' */
export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  data: { type: 'string', value: 'DIR', description: 'data directory (default: $EDGE_NET_DATA, else ~/.edge-net)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' }
}

/** The `--json` flag of commands that set `json: true`. @example JSON_OPTION.type === 'boolean' */
export const JSON_OPTION: OptionSpec = { type: 'boolean', description: 'print one JSON object on stdout (amounts in micro-credits, as decimal strings)' }

type RawValue = string | boolean | Array<string | boolean> | undefined

/**
 * Typed access to parsed flags, turning a badly formed value into a usage error.
 *
 * @example
 * const nodes = ctx.flags.integer('nodes', { min: 1, max: 64 }) ?? 5
 */
export class Flags {
  readonly #values: Readonly<Record<string, RawValue>>

  constructor (values: Readonly<Record<string, RawValue>>) {
    this.#values = values
  }

  /** A string flag, or undefined if absent. @example ctx.flags.string('data') */
  string (name: string): string | undefined {
    const v = this.#values[name]
    if (Array.isArray(v)) return v.length === 0 ? undefined : String(v[v.length - 1])
    return typeof v === 'string' ? v : undefined
  }

  /** Every value of a repeatable string flag ([] if absent). @example ctx.flags.strings('listen') */
  strings (name: string): string[] {
    const v = this.#values[name]
    if (Array.isArray(v)) return v.map(String)
    return typeof v === 'string' ? [v] : []
  }

  /** A boolean flag (false if absent). @example ctx.flags.boolean('force') */
  boolean (name: string): boolean {
    return this.#values[name] === true
  }

  /**
   * An integer flag within [min, max], or undefined if absent.
   * @example ctx.flags.integer('nodes', { min: 1, max: 64 }) ?? 5
   */
  integer (name: string, range: { min?: number, max?: number } = {}): number | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw usageError(`--${name} must be an integer, got "${text}"`)
    return checkRange(name, Number(text), range)
  }

  /**
   * A finite number flag within [min, max], or undefined if absent.
   * @example ctx.flags.number('cpu', { min: 0, max: 1 }) ?? 0.3
   */
  number (name: string, range: { min?: number, max?: number } = {}): number | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    const value = Number(text)
    if (text.trim() === '' || !Number.isFinite(value)) throw usageError(`--${name} must be a number, got "${text}"`)
    return checkRange(name, value, range)
  }
}

function checkRange (name: string, value: number, range: { min?: number, max?: number }): number {
  if (range.min !== undefined && value < range.min) throw usageError(`--${name} must be at least ${range.min}, got ${value}`)
  if (range.max !== undefined && value > range.max) throw usageError(`--${name} must be at most ${range.max}, got ${value}`)
  return value
}

/** The flags a command accepts: its own, the common ones, and --json if it takes it. @example Object.keys(optionsOf(keygen)) // ['force', 'json', 'data', 'help'] */
export function optionsOf (command: CommandSpec): Record<string, OptionSpec> {
  return { ...command.options, ...(command.json === true ? { json: JSON_OPTION } : {}), ...COMMON_OPTIONS }
}

/**
 * Parse a command's arguments strictly. Throws CliError ERR_USAGE for an unknown flag, a missing
 * flag value, or a wrong number of positionals (unless --help was given, which wins).
 *
 * @example
 * const { flags, positionals, help } = parseCommandArgs(keygen, ['--force'])
 */
export function parseCommandArgs (command: CommandSpec, args: readonly string[]): { flags: Flags, positionals: string[], help: boolean } {
  const config: ParseArgsOptionsConfig = {}
  for (const [name, spec] of Object.entries(optionsOf(command))) {
    config[name] = { type: spec.type, ...(spec.short !== undefined ? { short: spec.short } : {}), ...(spec.multiple === true ? { multiple: true } : {}) }
  }
  let parsed
  try {
    parsed = parseArgs({ args: [...args], options: config, strict: true, allowPositionals: true })
  } catch (err) {
    // parseArgs throws TypeErrors with codes ERR_PARSE_ARGS_*: every one is the user's mistake.
    const message = err instanceof Error ? err.message.split('. To specify')[0] as string : String(err)
    throw usageError(`${message} (see edge-net ${command.name} --help)`)
  }
  const flags = new Flags(parsed.values as Record<string, RawValue>)
  const help = flags.boolean('help')
  const { min, max } = command.positionals
  if (!help) {
    const n = parsed.positionals.length
    if (n < min) throw usageError(`edge-net ${command.name} needs ${command.args === '' ? `${min} argument(s)` : command.args} (see edge-net ${command.name} --help)`)
    if (n > max) throw usageError(`unexpected argument "${parsed.positionals[max] as string}" to edge-net ${command.name} (see edge-net ${command.name} --help)`)
  }
  return { flags, positionals: parsed.positionals, help }
}

/**
 * The data directory: `--data`, else `$EDGE_NET_DATA`, else `~/.edge-net`, made absolute.
 *
 * @example
 * resolveDataDir(undefined, { EDGE_NET_DATA: '/srv/edge' }) === '/srv/edge'
 */
export function resolveDataDir (flag: string | undefined, env: Readonly<Record<string, string | undefined>>, home: string = homedir()): string {
  if (flag !== undefined) {
    if (flag === '') throw usageError('--data needs a directory')
    return resolve(flag)
  }
  const fromEnv = env.EDGE_NET_DATA
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv)
  return join(home, '.edge-net')
}

/**
 * The `--help` text of one command.
 *
 * @example
 * process.stdout.write(commandHelp(keygen))
 */
export function commandHelp (command: CommandSpec): string {
  const usage = `edge-net ${command.name}${command.args === '' ? '' : ' ' + command.args} [options]`
  const rows = Object.entries(optionsOf(command)).map(([name, spec]) => {
    const left = `${spec.short !== undefined ? `-${spec.short}, ` : ''}--${name}${spec.value !== undefined ? ' ' + spec.value : ''}${spec.multiple === true ? '...' : ''}`
    return [left, spec.description] as const
  })
  const width = Math.max(...rows.map(([left]) => left.length))
  const lines = [`Usage: ${usage}`, '', command.summary]
  if (command.description !== undefined) lines.push('', command.description)
  lines.push('', 'Options:', ...rows.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`))
  return lines.join('\n') + '\n'
}

/**
 * The top-level `edge-net --help` text (or a group's, e.g. `edge-net ledger --help`).
 *
 * @example
 * process.stdout.write(commandListHelp(COMMANDS))
 */
export function commandListHelp (commands: readonly CommandSpec[], group?: string): string {
  const shown = group === undefined ? commands : commands.filter(c => c.name.startsWith(group + ' '))
  const width = Math.max(...shown.map(c => c.name.length + (c.args === '' ? 0 : c.args.length + 1)))
  const lines = [
    `Usage: edge-net ${group === undefined ? '<command>' : group + ' <command>'} [options]`,
    '',
    group === undefined
      ? 'edge-net: share idle compute, get paid in credits kept in a signed, replicated ledger.'
      : `edge-net ${group}: ${shown.length} commands.`,
    '',
    'Commands:',
    ...shown.map(c => `  ${(c.name + (c.args === '' ? '' : ' ' + c.args)).padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --help and --data DIR. Errors print one line "edge-net: ERR_CODE: message"',
    'on stderr and exit 2 (usage) or 1 (anything else); EDGE_NET_DEBUG=1 adds the stack.'
  ]
  return lines.join('\n') + '\n'
}
