import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const run = promisify(execFile)
const example = fileURLToPath(new URL('../../examples/quickstart.ts', import.meta.url))

describe('examples/quickstart.ts', () => {
  it('runs as the README shows and ends with agreeing replicas', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-net-qs-'))
    try {
      const { stdout } = await run(process.execPath, [example, dir], { timeout: 60_000 })
      assert.match(stdout, /alice claimed 10 trial credits/)
      assert.match(stdout, /bob minted 20 credits/)
      assert.match(stdout, /minted 230, conservation gap 0/)
      assert.match(stdout, /replica agrees/)
      assert.ok((await stat(join(dir, 'events.db'))).size > 0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
