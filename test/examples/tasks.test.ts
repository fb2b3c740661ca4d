import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'

const run = promisify(execFile)
const example = fileURLToPath(new URL('../../examples/tasks.ts', import.meta.url))

describe('examples/tasks.ts', () => {
  it('runs as the README shows: verified tasks, paid and rewarded workers, credits conserved', async () => {
    const { stdout } = await run(process.execPath, [example], { timeout: 60_000 })
    assert.match(stdout, /encryption: 31 bytes, verified true, 3 workers, cost 0\.03 credits/)
    assert.match(stdout, /semantic_match: best candidate 0 \(score \d+ ppm\), verified true/)
    assert.match(stdout, /worker 1 earned [\d.]+ credits \(reward\)/)
    assert.match(stdout, /conservation gap 0/)
  })
})
