/**
 * How the CLI writes: results (human text, or one JSON object with `--json`), one-line errors,
 * and a progress bar for long work. stdout carries only results, so `--json` output can be piped
 * into a parser; everything else (errors, progress) goes to stderr.
 */
import { EdgeNetError } from '../core/errors.ts'
import { toHex } from '../core/bytes.ts'
import { CliError } from './errors.ts'

/** A stream the CLI writes to (process.stdout, process.stderr, or a test double). @example const s: TextSink = process.stderr */
export interface TextSink {
  write (text: string): unknown
  readonly isTTY?: boolean
  readonly columns?: number
}

/**
 * The world a CLI run sees. `main()` defaults it to the process's own streams and environment.
 *
 * @example
 * const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }
 */
export interface CliIo {
  readonly stdout: TextSink & { write (chunk: string | Uint8Array): unknown }
  readonly stderr: TextSink
  readonly stdin: AsyncIterable<Uint8Array | string>
  readonly env: Readonly<Record<string, string | undefined>>
}

/**
 * JSON with bigints as decimal strings (micro-credits) and byte arrays as lowercase hex.
 *
 * @example
 * stringifyJson({ balance: 5n }) === '{"balance":"5"}'
 */
export function stringifyJson (value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString()
    if (v instanceof Uint8Array) return toHex(v)
    return v
  }, indent)
}

/**
 * Where a command writes its result.
 *
 * @example
 * ctx.out.result({ nodeId }, () => `node id: ${nodeId}`)
 */
export class Output {
  readonly json: boolean
  readonly io: CliIo

  constructor (io: CliIo, json: boolean) {
    this.io = io
    this.json = json
  }

  /**
   * Print the command's result: the object as one JSON line with --json, else the human text.
   * Call it once per run.
   * @example out.result({ ok: true }, () => 'verified')
   */
  result (value: object, human: () => string): void {
    if (this.json) this.io.stdout.write(stringifyJson(value) + '\n')
    else {
      const text = human()
      this.io.stdout.write(text.endsWith('\n') ? text : text + '\n')
    }
  }

  /** A note for a person (stderr, never with --json). @example out.note('ledger exported') */
  note (text: string): void {
    if (!this.json) this.io.stderr.write(text + '\n')
  }

  /** A progress bar on stderr, drawn only when stderr is a TTY and --json is off. @example const bar = out.progress('verify', n) */
  progress (label: string, total: number): Progress {
    return createProgress({ label, total, stream: this.io.stderr, enabled: !this.json })
  }
}

/** Aligned `key: value` lines for human output. @example table([['node id', id], ['balance', '5']]) */
export function table (rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${(k + ':').padEnd(width + 1)} ${v}`).join('\n')
}

/**
 * How a failure is reported: the one line for stderr, the exit code, and (with EDGE_NET_DEBUG=1)
 * the stack. A usage error exits 2, any other error 1. An error with a `code` (every edge-net
 * error, and Node's own system errors) shows it; anything else shows ERR_INTERNAL.
 *
 * @example
 * const { line, exitCode } = describeError(err, { debug: false }); stderr.write(line + '\n')
 */
export function describeError (err: unknown, options: { debug: boolean }): { line: string, exitCode: number, stack: string | null } {
  const code = err instanceof EdgeNetError
    ? err.code
    : typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'ERR_INTERNAL'
  let message = err instanceof Error ? err.message : String(err)
  // An adapter error often wraps the system error that explains it (EACCES, ENOSPC): say it.
  const cause = err instanceof Error ? err.cause : undefined
  if (err instanceof EdgeNetError && cause instanceof Error && !message.includes(cause.message)) message += ` (${cause.message})`
  const line = `edge-net: ${code}: ${oneLine(message)}`
  const exitCode = err instanceof CliError && err.code === 'ERR_USAGE' ? 2 : 1
  const stack = options.debug && err instanceof Error && err.stack !== undefined ? err.stack : null
  return { line, exitCode, stack }
}

function oneLine (text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/**
 * A progress bar. `update(done)` moves it, `finish()` erases it. Without a TTY every call is a no-op.
 *
 * @example
 * const bar = createProgress({ label: 'export', total: n, stream: process.stderr })
 * for (let i = 0; i < n; i++) { work(i); bar.update(i + 1) }
 * bar.finish()
 */
export interface Progress {
  update (done: number): void
  finish (): void
}

/** Redraw at most this often, so a tight loop does not spend its time writing escape codes. */
const REDRAW_MS = 100

/**
 * Make a progress bar on `stream` (only drawn if `stream.isTTY` and `enabled` is not false).
 *
 * @example
 * const bar = createProgress({ label: 'verify', total: 10_000, stream: process.stderr })
 */
export function createProgress (init: { label: string, total: number, stream: TextSink, enabled?: boolean, now?: () => number }): Progress {
  const { label, total, stream } = init
  if (init.enabled === false || stream.isTTY !== true || total <= 0) return { update () {}, finish () {} }
  const now = init.now ?? Date.now
  let last = -Infinity
  let drawn = false
  const draw = (done: number): void => {
    const fraction = Math.min(1, Math.max(0, done / total))
    const counter = ` ${Math.floor(fraction * 100)}% ${done}/${total}`
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - counter.length - 4))
    const filled = Math.round(fraction * width)
    // \r and ESC[K (erase to end of line, ECMA-48 §8.3.41): redraw in place.
    stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${counter}\u001b[K`)
    drawn = true
  }
  return {
    update (done: number): void {
      const t = now()
      if (t - last < REDRAW_MS && done < total) return
      last = t
      draw(done)
    },
    finish (): void {
      if (drawn) stream.write('\r\u001b[K')
      drawn = false
    }
  }
}
