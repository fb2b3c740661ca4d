/**
 * Reading and writing the files named on the command line, where `-` means stdin or stdout
 * (`edge-net ledger export -`, `edge-net submit --payload -`).
 */
import { open, readFile, rename, unlink } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { CliError } from './errors.ts'
import type { CliIo } from './output.ts'

/**
 * The bytes of FILE, or of stdin for `-`. Throws CliError ERR_FILE_IO if it cannot be read.
 *
 * @example
 * const bytes = await readInput(ctx.positionals[0], ctx.io)
 */
export async function readInput (path: string, io: CliIo): Promise<Uint8Array> {
  if (path === '-') {
    const chunks: Uint8Array[] = []
    let total = 0
    try {
      for await (const chunk of io.stdin) {
        const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk
        chunks.push(bytes)
        total += bytes.length
      }
    } catch (err) {
      throw new CliError('ERR_FILE_IO', 'cannot read stdin', { cause: err })
    }
    const out = new Uint8Array(total)
    let at = 0
    for (const c of chunks) { out.set(c, at); at += c.length }
    return out
  }
  try {
    const buffer = await readFile(path)
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  } catch (err) {
    throw new CliError('ERR_FILE_IO', `cannot read ${path}`, { cause: err })
  }
}

/**
 * Write chunks to FILE (through a temporary file renamed into place once synced, so a failed
 * write never leaves a partial file under the name), or to stdout for `-`. Throws ERR_FILE_IO.
 *
 * @example
 * await writeOutput('ledger.enx', chunks, ctx.io)
 */
export async function writeOutput (path: string, chunks: readonly Uint8Array[], io: CliIo): Promise<number> {
  let total = 0
  for (const c of chunks) total += c.length
  if (path === '-') {
    for (const c of chunks) {
      const stdout = io.stdout as CliIo['stdout'] & { once?: (event: string, fn: () => void) => unknown }
      // Respect back-pressure on a pipe: wait for 'drain' when the stream's buffer is full.
      if (stdout.write(c) === false && typeof stdout.once === 'function') await new Promise<void>(resolve => stdout.once?.('drain', resolve))
    }
    return total
  }
  const temporary = `${path}.${randomUUID()}.tmp`
  try {
    const handle = await open(temporary, 'wx', 0o644)
    try {
      for (const c of chunks) await handle.write(c)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
  } catch (err) {
    await unlink(temporary).catch(() => {})
    throw new CliError('ERR_FILE_IO', `cannot write ${path}`, { cause: err })
  }
  return total
}
