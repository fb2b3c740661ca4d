/**
 * The CLI framework in process: dispatch, error reporting, flags, JSON, progress, the data
 * directory helpers and network.json; and the shutdown helper in a child process it signals.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { readFileSync, writeFileSync } from 'node:fs'
import fc from 'fast-check'
import { main } from '../../src/cli/main.ts'
import { Flags, resolveDataDir } from '../../src/cli/args.ts'
import type { CommandSpec } from '../../src/cli/args.ts'
import { createProgress, stringifyJson } from '../../src/cli/output.ts'
import type { CliIo } from '../../src/cli/output.ts'
import { CliError } from '../../src/cli/errors.ts'
import { LedgerError } from '../../src/core/ledger/index.ts'
import { dataDirPaths, isProcessAlive, moveAside, openDataDir, readNodeInfo, removeNodeInfo, writeNodeInfo } from '../../src/cli/data-dir.ts'
import { DEFAULT_RULES, networkToJson, parseNetworkFile, serializeNetworkFile } from '../../src/cli/network-file.ts'
import type { NetworkFile } from '../../src/cli/network-file.ts'
import { nodeIdFromPublicKey } from '../../src/core/identity/index.ts'
import { ROOT, tempDir } from './helpers.ts'

function fakeIo (env: Record<string, string> = {}): CliIo & { out: string[], err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    stdout: { write: (t: string | Uint8Array) => out.push(String(t)) },
    stderr: { write: (t: string) => err.push(t) },
    stdin: (async function * () {})(),
    env
  }
}

function command (run: CommandSpec['run'], extra: Partial<CommandSpec> = {}): CommandSpec {
  return { name: 'try', summary: 'a test command', args: '', options: {}, positionals: { min: 0, max: 0 }, json: true, run, ...extra }
}

describe('cli framework', () => {
  describe('main()', () => {
    it('reports a plain Error as ERR_INTERNAL, one line, exit 1, no stack', async () => {
      const io = fakeIo()
      const code = await main(['try'], io, [command(async () => { throw new Error('boom\nsecond line') })])
      assert.equal(code, 1)
      assert.deepEqual(io.err, ['edge-net: ERR_INTERNAL: boom second line\n'])
    })

    it('reports a system error by its errno code, and the stack with EDGE_NET_DEBUG=1', async () => {
      const io = fakeIo({ EDGE_NET_DEBUG: '1' })
      const failure = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' })
      const code = await main(['try'], io, [command(async () => { throw failure })])
      assert.equal(code, 1)
      assert.equal(io.err[0], 'edge-net: ENOENT: ENOENT: no such file\n')
      assert.match(io.err[1] as string, /^Error: ENOENT[^]*\n\s+at /)
    })

    it('reports a domain error by its code with its cause, exit 1; a usage error exits 2', async () => {
      const io = fakeIo()
      const cause = new Error('EACCES: permission denied')
      assert.equal(await main(['try'], io, [command(async () => { throw new LedgerError('ERR_STORE_FAILED', 'cannot write', { cause }) })]), 1)
      assert.equal(io.err[0], 'edge-net: ERR_STORE_FAILED: cannot write (EACCES: permission denied)\n')
      assert.equal(await main(['try'], io, [command(async () => { throw new CliError('ERR_USAGE', 'no') })]), 2)
    })

    it('passes the command\'s exit code, the data directory and --json through', async () => {
      const io = fakeIo({ EDGE_NET_DATA: '/srv/from-env' })
      let seen: { json: boolean, dataDir: string } | null = null
      const code = await main(['try', '--json'], io, [command(async (ctx) => {
        seen = { json: ctx.json, dataDir: ctx.dataDir }
        ctx.out.result({ amount: 5n, key: new Uint8Array([1, 255]) }, () => 'human')
        return 3
      })])
      assert.equal(code, 3)
      assert.deepEqual(seen, { json: true, dataDir: '/srv/from-env' })
      assert.deepEqual(io.out, ['{"amount":"5","key":"01ff"}\n'])
    })

    it('finds the longest command name (a group and its subcommand)', async () => {
      const io = fakeIo()
      const ran: string[] = []
      const table = [
        command(async () => { ran.push('a b'); return 0 }, { name: 'a b' }),
        command(async () => { ran.push('a c'); return 0 }, { name: 'a c', positionals: { min: 1, max: 1 } })
      ]
      assert.equal(await main(['a', 'c', 'x'], io, table), 0)
      assert.equal(await main(['a', 'b'], io, table), 0)
      assert.deepEqual(ran, ['a c', 'a b'])
    })
  })

  describe('Flags', () => {
    it('parses integers and numbers within range, else a usage error', () => {
      const flags = new Flags({ n: '5', bad: '5x', cpu: '0.3', neg: '-1', list: ['a', 'b'] })
      assert.equal(flags.integer('n', { min: 1, max: 10 }), 5)
      assert.equal(flags.integer('absent'), undefined)
      assert.equal(flags.number('cpu', { min: 0, max: 1 }), 0.3)
      assert.deepEqual(flags.strings('list'), ['a', 'b'])
      assert.equal(flags.string('list'), 'b')
      for (const f of [() => flags.integer('bad'), () => flags.integer('neg', { min: 0 }), () => flags.number('n', { max: 1 })]) {
        assert.throws(f, (err: unknown) => err instanceof CliError && err.code === 'ERR_USAGE')
      }
    })

    it('resolves the data directory: --data, then $EDGE_NET_DATA, then ~/.edge-net', () => {
      assert.equal(resolveDataDir('/a', { EDGE_NET_DATA: '/b' }, '/home/u'), '/a')
      assert.equal(resolveDataDir(undefined, { EDGE_NET_DATA: '/b' }, '/home/u'), '/b')
      assert.equal(resolveDataDir(undefined, {}, '/home/u'), '/home/u/.edge-net')
    })
  })

  describe('progress', () => {
    it('draws only on a TTY, and erases itself when finished', () => {
      const written: string[] = []
      let t = 0
      const tty = { isTTY: true, columns: 60, write: (s: string) => written.push(s) }
      const bar = createProgress({ label: 'work', total: 10, stream: tty, now: () => t })
      bar.update(5)
      t += 10
      bar.update(6) // within the redraw interval: skipped
      t += 200
      bar.update(10)
      bar.finish()
      assert.equal(written.length, 3)
      assert.match(written[0] as string, /^\rwork \[#+-+\] 50% 5\/10/)
      assert.match(written[1] as string, /100% 10\/10/)
      assert.equal(written[2], '\r\u001b[K')
      const pipe = { write: (s: string) => written.push(s) }
      const quiet = createProgress({ label: 'work', total: 10, stream: pipe })
      quiet.update(5)
      quiet.finish()
      const json = createProgress({ label: 'work', total: 10, stream: tty, enabled: false })
      json.update(5)
      assert.equal(written.length, 3)
    })
  })

  describe('stringifyJson', () => {
    it('writes bigints as decimal strings, exactly, beyond 2^53', () => {
      assert.equal(stringifyJson({ a: 2n ** 63n - 1n }), '{"a":"9223372036854775807"}')
    })
  })

  describe('network.json', () => {
    it('round-trips through serialize and parse (property, seeded)', () => {
      const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)
      const network = fc.record({
        networkId: fc.string({ minLength: 1, maxLength: 40 }),
        genesis: fc.array(fc.record({
          account: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          amount: fc.bigInt({ min: 1n, max: 2n ** 63n - 1n })
        }, { noNullPrototype: true }), { maxLength: 5 }),
        rules: fc.record({
          quorum: fc.integer({ min: 1, max: 9 }),
          minStake: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
          multiplier: fc.record({ max: fc.double({ min: 1, max: 100, noNaN: true }), decay: fc.double({ min: 1, max: 1e9, noNaN: true }) }, { noNullPrototype: true })
        }, { requiredKeys: [], noNullPrototype: true })
      }, { noNullPrototype: true })
      fc.assert(fc.property(network, (n) => {
        assert.deepEqual(parseNetworkFile(serializeNetworkFile(n as NetworkFile)), n)
      }), { seed, numRuns: 200 })
    })

    it('accepts node ids as genesis accounts, and refuses negative rules', () => {
      const account = new Uint8Array(32).fill(7)
      const parsed = parseNetworkFile(JSON.stringify({ networkId: 'x', genesis: [{ account: nodeIdFromPublicKey(account), amount: '5' }] }))
      assert.deepEqual(parsed.genesis, [{ account, amount: 5n }])
      assert.throws(() => parseNetworkFile('{"networkId":"x","rules":{"stakeLockMs":-1}}'), (e: unknown) => e instanceof CliError && e.code === 'ERR_BAD_NETWORK_FILE')
      assert.throws(() => parseNetworkFile('{"networkId":"x","genesis":[{"account":"' + '00'.repeat(32) + '","amount":"0"}]}'), /amount/)
      assert.equal(DEFAULT_RULES.trialDifficulty, 16)
      assert.deepEqual(networkToJson({ networkId: 'x', genesis: [], rules: {} }), { version: 1, networkId: 'x', genesis: [] })
    })
  })

  describe('data directory helpers', () => {
    it('openDataDir({ create: true }) makes identity and network.json once, then reopens the same', async () => {
      const tmp = tempDir()
      try {
        const dir = join(tmp.dir, 'fresh')
        const first = await openDataDir(dir, { create: true })
        const again = await openDataDir(dir)
        assert.equal(again.identity.nodeId, first.identity.nodeId)
        assert.equal(again.network.networkId, 'edge-net-local')
        assert.equal(again.networkFileExists, true)
        const ledger = await again.openLedger()
        assert.equal(ledger.size, 0)
        await ledger.close()
        assert.ok(readFileSync(join(dir, 'ledger.sqlite')).length > 0)
      } finally {
        tmp.remove()
      }
    })

    it('node.json: written, read, removed only by its writer; a dead pid is not alive', async () => {
      const tmp = tempDir()
      try {
        const paths = dataDirPaths(tmp.dir)
        assert.equal(await readNodeInfo(paths), null)
        const info = { pid: process.pid, nodeId: 'n', networkId: 'x', listen: ['/ip4/127.0.0.1/tcp/1'], dashboard: null, startedAt: 5 }
        await writeNodeInfo(paths, info)
        assert.deepEqual(await readNodeInfo(paths), info)
        await removeNodeInfo(paths, process.pid + 1)
        assert.deepEqual(await readNodeInfo(paths), info)
        await removeNodeInfo(paths, process.pid)
        assert.equal(await readNodeInfo(paths), null)
        writeFileSync(paths.nodeInfo, '{"pid": "x"}')
        assert.equal(await readNodeInfo(paths), null)
        assert.equal(isProcessAlive(process.pid), true)
        assert.equal(isProcessAlive(0), false)
      } finally {
        tmp.remove()
      }
    })

    it('moveAside never replaces an earlier backup', async () => {
      const tmp = tempDir()
      try {
        const path = join(tmp.dir, 'identity.key')
        const when = new Date(0)
        writeFileSync(path, 'one')
        const first = await moveAside(path, when)
        writeFileSync(path, 'two')
        const second = await moveAside(path, when)
        assert.notEqual(first, second)
        assert.equal(readFileSync(first, 'utf8'), 'one')
        assert.equal(readFileSync(second, 'utf8'), 'two')
      } finally {
        tmp.remove()
      }
    })
  })

  describe('onShutdown (child process)', () => {
    async function signalled (mode: string, signals: NodeJS.Signals[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
      const child = spawn(process.execPath, [join(ROOT, 'test/cli/fixtures/shutdown-child.ts'), mode], { stdio: ['ignore', 'pipe', 'pipe'] })
      const closed = new Promise<number | null>(resolve => child.on('close', resolve))
      let stdout = ''
      let stderr = ''
      child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
      await new Promise<void>(resolve => child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString()
        if (stdout.includes('ready\n')) resolve()
      }))
      for (const s of signals) {
        child.kill(s)
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      const code = await closed
      return { code, stdout, stderr }
    }

    it('runs every cleanup once, newest first, on SIGTERM, then exits 0', async () => {
      const run = await signalled('ok', ['SIGTERM'])
      assert.equal(run.code, 0, run.stderr)
      assert.equal(run.stdout, 'ready\ncleanup last-added\ncleanup first-added\n')
    })

    it('a second SIGINT during cleanup does not cut it short or run it twice', async () => {
      const run = await signalled('slow', ['SIGINT', 'SIGINT'])
      assert.equal(run.code, 0, run.stderr)
      assert.equal(run.stdout, 'ready\ncleanup last-added\ncleanup first-added\n')
      assert.match(run.stderr, /SIGINT again: still shutting down/)
    })

    it('a failing cleanup is one line on stderr, the others still run, exit 1', async () => {
      const run = await signalled('fail', ['SIGTERM'])
      assert.equal(run.code, 1)
      assert.equal(run.stdout, 'ready\ncleanup first-added\n')
      assert.match(run.stderr, /^edge-net: ERR_INTERNAL: disk on fire$/m)
    })
  })
})
