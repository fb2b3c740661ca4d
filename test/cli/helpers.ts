/** Helpers for the CLI tests: run `edge-net` as a child process, and take export files apart. */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const MAIN = join(ROOT, 'src/cli/main.ts')
/** The launcher package.json's `bin` names. */
export const LAUNCHER = join(ROOT, 'bin/edge-net.js')

export interface CliRun { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, stdoutBytes: Uint8Array }

/** Run `edge-net ...args` with the pinned node (process.execPath is it inside the tests). */
export async function runCli (args: readonly string[], options: { env?: Record<string, string | undefined>, input?: Uint8Array | string, entry?: string } = {}): Promise<CliRun> {
  const env: Record<string, string | undefined> = { ...process.env, EDGE_NET_DEBUG: undefined, EDGE_NET_DATA: undefined, ...options.env }
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  const child = spawn(process.execPath, [options.entry ?? MAIN, ...args], { cwd: ROOT, env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (c: Buffer) => out.push(c))
  child.stderr.on('data', (c: Buffer) => err.push(c))
  child.stdin.end(options.input ?? '')
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (c, s) => resolve([c, s]))
  })
  const stdoutBuffer = Buffer.concat(out)
  return { code, signal, stdout: stdoutBuffer.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes: new Uint8Array(stdoutBuffer) }
}

/** Assert-friendly: the stderr of a failed run is exactly one line `edge-net: CODE: ...`; returns CODE. */
export function errorCode (run: CliRun): string {
  const lines = run.stderr.split('\n').filter(l => l !== '')
  if (lines.length !== 1) throw new Error(`expected one stderr line, got ${lines.length}: ${run.stderr}`)
  const m = /^edge-net: (ERR_[A-Z0-9_]+|E[A-Z]+): ./.exec(lines[0] as string)
  if (m === null) throw new Error(`stderr is not "edge-net: CODE: message": ${run.stderr}`)
  return m[1] as string
}

/** A temporary directory removed by the returned function. */
export function tempDir (prefix = 'edge-net-cli-'): { dir: string, remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** An export file taken apart (see src/cli/ledger-file.ts for the layout). */
export interface ExportParts { header: Record<string, unknown>, events: Uint8Array[], root: Uint8Array }

export function splitExport (bytes: Uint8Array): ExportParts {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = view.getUint32(20)
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(24, 24 + headerLength))) as Record<string, unknown>
  const events: Uint8Array[] = []
  let at = 24 + headerLength
  for (let i = 0; i < (header.count as number); i++) {
    const n = view.getUint32(at)
    events.push(bytes.slice(at + 4, at + 4 + n))
    at += 4 + n
  }
  return { header, events, root: bytes.slice(at, at + 32) }
}

/** Build an export from parts with a correct count, length and digest: what a careful forger writes. */
export function joinExport (parts: ExportParts): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ ...parts.header, count: parts.events.length }))
  const total = 24 + header.length + parts.events.reduce((n, e) => n + 4 + e.length, 0) + 64
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  out.set([0x89, 0x45, 0x4e, 0x58, 0x0d, 0x0a, 0x1a, 0x0a], 0)
  view.setUint32(8, 1)
  view.setBigUint64(12, BigInt(total))
  view.setUint32(20, header.length)
  out.set(header, 24)
  let at = 24 + header.length
  for (const e of parts.events) { view.setUint32(at, e.length); out.set(e, at + 4); at += 4 + e.length }
  out.set(parts.root, at)
  return reseal(out)
}

/** Recompute the trailing SHA-256 over everything before it. */
export function reseal (bytes: Uint8Array): Uint8Array {
  const out = bytes.slice()
  out.set(createHash('sha256').update(out.subarray(0, out.length - 32)).digest(), out.length - 32)
  return out
}
