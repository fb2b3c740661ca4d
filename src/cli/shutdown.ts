/**
 * Clean shutdown for long-running commands (`edge-net node`, `demo`): on SIGINT or SIGTERM run
 * every registered cleanup once (newest first, like a stack of `finally` blocks: what was
 * opened last is closed first), then exit 0, or 1 if a cleanup failed (each failure is printed as
 * one line). A second signal while cleaning up does not cut it short (nothing acknowledged may be
 * lost): it prints a note; only `timeoutMs` (default 30 s) forces an exit, with code 1.
 */
import { describeError } from './output.ts'
import type { TextSink } from './output.ts'

/** A cleanup step: close a ledger, stop libp2p, remove node.json. @example const stop: Cleanup = () => node.stop() */
export type Cleanup = () => Promise<void> | void

/**
 * The handle {@link onShutdown} returns.
 *
 * @example
 * const shutdown = onShutdown({ stderr: process.stderr })
 * shutdown.add(() => ledger.close())
 * await shutdown.done   // resolves once cleanups ran (the process exits right after)
 */
export interface Shutdown {
  /** Register a cleanup; cleanups run newest first. */
  add (cleanup: Cleanup): void
  /** Run the cleanups now (as a signal would) and exit. Later calls return the same promise. */
  trigger (reason?: string): Promise<void>
  /** Resolves when the cleanups have run. */
  readonly done: Promise<void>
  /** Remove the signal handlers without running anything (for tests and for commands that finish on their own). */
  dispose (): void
}

/** Options of {@link onShutdown}. @example { stderr: process.stderr, timeoutMs: 10_000 } */
export interface ShutdownOptions {
  stderr?: TextSink
  /** Longest the cleanups may take before the process is forced out with code 1 (default 30000). */
  timeoutMs?: number
  /** Signals to catch (default SIGINT and SIGTERM). */
  signals?: readonly NodeJS.Signals[]
  /** How to leave (default process.exit); tests replace it. */
  exit?: (code: number) => void
  /** Print the stack of a failed cleanup (EDGE_NET_DEBUG=1). */
  debug?: boolean
}

/**
 * Install SIGINT/SIGTERM handlers that run the cleanups once and exit.
 *
 * @example
 * const shutdown = onShutdown({ stderr: process.stderr })
 * shutdown.add(async () => { await host.stop() })
 */
export function onShutdown (options: ShutdownOptions = {}): Shutdown {
  const stderr = options.stderr ?? process.stderr
  const signals = options.signals ?? ['SIGINT', 'SIGTERM']
  const exit = options.exit ?? ((code: number) => process.exit(code))
  const timeoutMs = options.timeoutMs ?? 30_000
  const cleanups: Cleanup[] = []
  let running: Promise<void> | null = null
  let resolveDone: () => void = () => {}
  const done = new Promise<void>(resolve => { resolveDone = resolve })

  const onSignal = (signal: NodeJS.Signals): void => {
    if (running !== null) {
      stderr.write(`edge-net: ${signal} again: still shutting down cleanly, please wait\n`)
      return
    }
    void trigger(signal)
  }

  const dispose = (): void => {
    for (const s of signals) process.off(s, onSignal)
  }

  const trigger = (reason = 'shutdown'): Promise<void> => {
    if (running !== null) return running
    running = (async () => {
      stderr.write(`edge-net: ${reason}: shutting down\n`)
      const timer = setTimeout(() => {
        stderr.write(`edge-net: ERR_INTERNAL: shutdown took longer than ${timeoutMs} ms; exiting anyway\n`)
        exit(1)
      }, timeoutMs)
      timer.unref()
      let failed = false
      for (const cleanup of cleanups.splice(0).reverse()) {
        try {
          await cleanup()
        } catch (err) {
          failed = true
          const { line, stack } = describeError(err, { debug: options.debug ?? false })
          stderr.write(line + '\n' + (stack !== null ? stack + '\n' : ''))
        }
      }
      clearTimeout(timer)
      dispose()
      resolveDone()
      exit(failed ? 1 : 0)
    })()
    return running
  }

  for (const s of signals) process.on(s, onSignal)
  return { add: (cleanup) => { cleanups.push(cleanup) }, trigger, done, dispose }
}
