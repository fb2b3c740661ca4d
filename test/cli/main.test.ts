/**
 * The edge-net CLI as a user meets it: a child process running src/cli/main.ts with the pinned
 * node. Help, usage errors, keygen, balance and status on a data directory, and malformed files.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { COMMANDS } from '../../src/cli/commands/index.ts'
import { Identity } from '../../src/core/identity/index.ts'
import { Ledger } from '../../src/core/ledger/index.ts'
import { credits } from '../../src/core/economy/index.ts'
import { toHex } from '../../src/core/bytes.ts'
import { SqliteEventStore } from '../../src/adapters/sqlite/event-store.ts'
import { dataDirPaths } from '../../src/cli/data-dir.ts'
import { ledgerConfigOf, parseNetworkFile } from '../../src/cli/network-file.ts'
import { identities } from '../helpers/fixtures.ts'
import { LAUNCHER, ROOT, errorCode, runCli, tempDir } from './helpers.ts'

describe('edge-net CLI', () => {
  describe('help', { concurrency: true }, () => {
    it('prints the command list for --help, -h and help, exit 0', async () => {
      for (const flag of ['--help', '-h', 'help']) {
        const run = await runCli([flag])
        assert.equal(run.code, 0, run.stderr)
        assert.equal(run.stderr, '')
        for (const c of COMMANDS) assert.ok(run.stdout.includes(c.name), `${flag} lists ${c.name}`)
      }
    })

    it('prints each command\'s help with --help, exit 0, listing its flags', async () => {
      for (const c of COMMANDS) {
        const run = await runCli([...c.name.split(' '), '--help'])
        assert.equal(run.code, 0, `${c.name}: ${run.stderr}`)
        assert.match(run.stdout, new RegExp(`^Usage: edge-net ${c.name}`))
        for (const flag of [...Object.keys(c.options), 'data', 'help', ...(c.json === true ? ['json'] : [])]) {
          assert.ok(run.stdout.includes(`--${flag}`), `${c.name} --help mentions --${flag}`)
        }
      }
    })

    it('prints a group\'s subcommands for "ledger --help"', async () => {
      const run = await runCli(['ledger', '--help'])
      assert.equal(run.code, 0)
      assert.match(run.stdout, /ledger export FILE/)
      assert.match(run.stdout, /ledger verify FILE/)
    })

    it('prints the version', async () => {
      const run = await runCli(['--version'])
      assert.equal(run.code, 0)
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
      assert.equal(run.stdout, `edge-net ${pkg.version}\n`)
    })

    it('runs the same through the bin launcher, which fills the compile cache', async () => {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string, bin: Record<string, string> }
      assert.equal(join(ROOT, pkg.bin['edge-net'] as string), LAUNCHER)
      const cache = mkdtempSync(join(tmpdir(), 'edge-net-cc-'))
      try {
        const run = await runCli(['--version'], { entry: LAUNCHER, env: { NODE_COMPILE_CACHE: cache } })
        assert.equal(run.code, 0, run.stderr)
        assert.equal(run.stdout, `edge-net ${pkg.version}\n`)
        assert.ok(readdirSync(cache, { recursive: true }).length > 0, 'the compile cache was written')
      } finally { rmSync(cache, { recursive: true, force: true }) }
    })
  })

  describe('usage errors: one line on stderr, exit 2, nothing on stdout', { concurrency: true }, () => {
    const cases: Array<[string, string[]]> = [
      ['an unknown flag', ['status', '--bogus']],
      ['an unknown flag on a subcommand', ['ledger', 'verify', 'x', '--nope']],
      ['a flag value to a boolean', ['keygen', '--force=yes']],
      ['a missing flag value', ['status', '--data']],
      ['an unknown command', ['frobnicate']],
      ['no command', []],
      ['a group without subcommand', ['ledger']],
      ['an unknown subcommand', ['ledger', 'import']],
      ['a missing positional', ['ledger', 'export']],
      ['an extra positional', ['balance', 'extra']],
      ['a malformed --expect-root', ['ledger', 'verify', 'x', '--expect-root', 'zz']]
    ]
    for (const [what, args] of cases) {
      it(`refuses ${what}`, async () => {
        const run = await runCli(args)
        assert.equal(run.code, 2, run.stderr)
        assert.equal(errorCode(run), 'ERR_USAGE')
        assert.equal(run.stdout, '')
      })
    }
  })

  describe('keygen, balance, status on a data directory', () => {
    let tmp: ReturnType<typeof tempDir>
    let dir: string
    before(() => { tmp = tempDir(); dir = join(tmp.dir, 'node') })
    after(() => tmp.remove())

    it('balance before keygen is ERR_NO_IDENTITY, exit 1', async () => {
      const run = await runCli(['balance', '--data', dir])
      assert.equal(run.code, 1)
      assert.equal(errorCode(run), 'ERR_NO_IDENTITY')
    })

    it('keygen creates identity.key (0600) and network.json, and prints the node id', async () => {
      const run = await runCli(['keygen', '--data', dir, '--json'])
      assert.equal(run.code, 0, run.stderr)
      const out = JSON.parse(run.stdout) as { nodeId: string, publicKey: string, networkId: string, backup: null }
      const me = await Identity.import(new Uint8Array(readFileSync(join(dir, 'identity.key'))))
      assert.equal(out.nodeId, me.nodeId)
      assert.equal(out.publicKey, toHex(me.publicKey))
      assert.equal(out.networkId, 'edge-net-local')
      assert.equal(out.backup, null)
      assert.equal(statSync(join(dir, 'identity.key')).mode & 0o777, 0o600)
      assert.equal(parseNetworkFile(readFileSync(join(dir, 'network.json'), 'utf8')).networkId, 'edge-net-local')
    })

    it('keygen again is refused (ERR_KEY_FILE_EXISTS) and leaves the key alone', async () => {
      const before = readFileSync(join(dir, 'identity.key'))
      const run = await runCli(['keygen', '--data', dir])
      assert.equal(run.code, 1)
      assert.equal(errorCode(run), 'ERR_KEY_FILE_EXISTS')
      assert.deepEqual(readFileSync(join(dir, 'identity.key')), before)
    })

    it('keygen --force keeps the old key as identity.key.bak-<time>', async () => {
      const old = readFileSync(join(dir, 'identity.key'))
      const run = await runCli(['keygen', '--force', '--json'], { env: { EDGE_NET_DATA: dir } })
      assert.equal(run.code, 0, run.stderr)
      const { backup, nodeId } = JSON.parse(run.stdout) as { backup: string, nodeId: string }
      assert.match(backup, /identity\.key\.bak-\d{4}-\d\d-\d\dT/)
      assert.deepEqual(readFileSync(backup), old)
      assert.notDeepEqual(readFileSync(join(dir, 'identity.key')), old)
      assert.equal((await Identity.import(new Uint8Array(readFileSync(join(dir, 'identity.key'))))).nodeId, nodeId)
      assert.equal(readdirSync(dir).filter(n => n.endsWith('.tmp')).length, 0)
    })

    it('balance and status --json on an empty ledger (nothing written)', async () => {
      const balance = await runCli(['balance', '--data', dir, '--json'])
      assert.equal(balance.code, 0, balance.stderr)
      const b = JSON.parse(balance.stdout) as Record<string, unknown>
      for (const k of ['balance', 'trial', 'reserved', 'staked', 'effectiveStake', 'earned', 'slashed']) assert.equal(b[k], '0', k)
      assert.equal((b.reputation as { tier: string }).tier, 'Restricted')
      const status = await runCli(['status', '--data', dir, '--json'])
      assert.equal(status.code, 0, status.stderr)
      const s = JSON.parse(status.stdout) as { ledger: { events: number, lastEventTime: null }, node: null }
      assert.equal(s.ledger.events, 0)
      assert.equal(s.ledger.lastEventTime, null)
      assert.equal(s.node, null)
      assert.equal(existsSync(join(dir, 'ledger.sqlite')), false)
    })

    it('balance and status read the SQLite ledger (transfers between genesis accounts)', async () => {
      const paths = dataDirPaths(dir)
      const me = await Identity.import(new Uint8Array(readFileSync(paths.identity)))
      const [a, b] = await identities(2) as [Identity, Identity]
      writeFileSync(paths.network, JSON.stringify({
        version: 1,
        networkId: 'edge-net-cli-test',
        genesis: [me, a, b].map(x => ({ account: toHex(x.publicKey), amount: credits(100).toString() })),
        rules: { trialDifficulty: 4 }
      }))
      const network = parseNetworkFile(readFileSync(paths.network, 'utf8'))
      const ledger = await Ledger.open({ config: ledgerConfigOf(network), store: SqliteEventStore.open(paths.ledger) })
      await ledger.append(a, 'transfer', { to: me.publicKey, amount: credits(7) }, { time: 1_700_000_000_000 })
      await ledger.append(me, 'transfer', { to: b.publicKey, amount: credits(2) }, { time: 1_700_000_001_000 })
      const root = ledger.stateRootHex()
      await ledger.close()

      const balance = await runCli(['balance', '--data', dir, '--json'])
      assert.equal(balance.code, 0, balance.stderr)
      const view = JSON.parse(balance.stdout) as Record<string, string>
      assert.equal(view.balance, credits(105).toString())
      assert.equal(view.earned, credits(107).toString())
      assert.equal(view.networkId, 'edge-net-cli-test')

      const status = await runCli(['status', '--data', dir, '--json'])
      const s = JSON.parse(status.stdout) as { networkId: string, ledger: Record<string, unknown> }
      assert.equal(s.networkId, 'edge-net-cli-test')
      assert.deepEqual(s.ledger, {
        events: 2,
        stateRoot: root,
        lastEventTime: new Date(1_700_000_001_000).toISOString(),
        minted: credits(300).toString(),
        burned: '0',
        accounts: 3,
        conservationGap: '0'
      })

      const human = await runCli(['balance', '--data', dir])
      assert.equal(human.code, 0)
      assert.match(human.stdout, /^balance:\s+105$/m)
    })

    it('status shows a running node from node.json only while its pid is alive', async () => {
      const paths = dataDirPaths(dir)
      const info = { pid: process.pid, nodeId: 'x', networkId: 'edge-net-cli-test', listen: ['/ip4/127.0.0.1/tcp/4001'], dashboard: 'http://127.0.0.1:8080/', startedAt: 1 }
      writeFileSync(paths.nodeInfo, JSON.stringify(info))
      const alive = JSON.parse((await runCli(['status', '--data', dir, '--json'])).stdout) as { node: unknown }
      assert.deepEqual(alive.node, info)
      const human = await runCli(['status', '--data', dir])
      assert.match(human.stdout, /dashboard:\s+http:\/\/127\.0\.0\.1:8080\//)
      // A pid that has exited: a child we ran to completion.
      const dead = spawnSync(process.execPath, ['-e', '0']).pid
      writeFileSync(paths.nodeInfo, JSON.stringify({ ...info, pid: dead }))
      const stale = JSON.parse((await runCli(['status', '--data', dir, '--json'])).stdout) as { node: unknown }
      assert.equal(stale.node, null)
    })

    const malformed: Array<[string, string]> = [
      ['not JSON', '{ "networkId": '],
      ['no networkId', '{ "genesis": [] }'],
      ['an unknown field', '{ "networkId": "x", "genesys": [] }'],
      ['a bad genesis account', '{ "networkId": "x", "genesis": [{ "account": "abc", "amount": "1" }] }'],
      ['a number amount', '{ "networkId": "x", "genesis": [{ "account": "' + '00'.repeat(32) + '", "amount": 1 }] }'],
      ['an unknown rule', '{ "networkId": "x", "rules": { "quorom": 2 } }'],
      ['a newer version', '{ "version": 2, "networkId": "x" }']
    ]
    it('refuses a malformed network.json: ERR_BAD_NETWORK_FILE, exit 1, for balance and status', async () => {
      // network.json is read before the identity, so each case needs only its own network.json.
      await Promise.all(malformed.map(async ([what, text], i) => {
        const caseDir = join(tmp.dir, `malformed-${i}`)
        mkdirSync(caseDir)
        writeFileSync(join(caseDir, 'network.json'), text)
        for (const cmd of ['balance', 'status']) {
          const run = await runCli([cmd, '--data', caseDir, '--json'])
          assert.equal(run.code, 1, `${what}: ${run.stderr}`)
          assert.equal(errorCode(run), 'ERR_BAD_NETWORK_FILE', what)
          assert.equal(run.stdout, '', what)
        }
      }))
    })

    it('an error shows its stack only with EDGE_NET_DEBUG=1', async () => {
      const paths = dataDirPaths(dir)
      const good = readFileSync(paths.identity)
      writeFileSync(paths.identity, 'not a key', { mode: 0o600 })
      try {
        const quiet = await runCli(['balance', '--data', dir])
        assert.equal(quiet.code, 1)
        assert.equal(errorCode(quiet), 'ERR_BAD_IDENTITY_FILE')
        const loud = await runCli(['balance', '--data', dir], { env: { EDGE_NET_DEBUG: '1' } })
        assert.equal(loud.code, 1)
        assert.match(loud.stderr, /^edge-net: ERR_BAD_IDENTITY_FILE: .*\n\S*IdentityError.*\n\s+at /)
      } finally {
        writeFileSync(paths.identity, good)
      }
    })
  })
})
