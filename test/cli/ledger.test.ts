/**
 * `edge-net ledger export` / `verify` as child processes, and the export format's laws in
 * process: an intact export verifies; every kind of damage is refused with its own code.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { Identity } from '../../src/core/identity/index.ts'
import { Ledger } from '../../src/core/ledger/index.ts'
import { credits } from '../../src/core/economy/index.ts'
import { toHex } from '../../src/core/bytes.ts'
import { isErrorCode } from '../../src/core/errors.ts'
import { SqliteEventStore } from '../../src/adapters/sqlite/event-store.ts'
import { dataDirPaths } from '../../src/cli/data-dir.ts'
import { encodeLedgerExport, parseLedgerExport, verifyLedgerExport, LedgerFileError } from '../../src/cli/ledger-file.ts'
import { ledgerConfigOf, parseNetworkFile } from '../../src/cli/network-file.ts'
import { identities } from '../helpers/fixtures.ts'
import { errorCode, joinExport, reseal, runCli, splitExport, tempDir } from './helpers.ts'

const T0 = 1_700_000_000_000

/** A data dir whose ledger holds chains with prev links and cross-author deps. */
async function fillLedger (dir: string): Promise<{ root: string, size: number }> {
  const paths = dataDirPaths(dir)
  const me = await Identity.import(new Uint8Array(readFileSync(paths.identity)))
  const [a, b] = await identities(2) as [Identity, Identity]
  writeFileSync(paths.network, JSON.stringify({
    networkId: 'edge-net-export-test',
    genesis: [me, a, b].map(x => ({ account: toHex(x.publicKey), amount: credits(100).toString() })),
    rules: { trialDifficulty: 4, stakeLockMs: 1000 }
  }))
  const config = ledgerConfigOf(parseNetworkFile(readFileSync(paths.network, 'utf8')))
  const ledger = await Ledger.open({ config, store: SqliteEventStore.open(paths.ledger) })
  await ledger.append(a, 'transfer', { to: b.publicKey, amount: credits(5) }, { time: T0 }) // 0
  await ledger.append(b, 'transfer', { to: me.publicKey, amount: credits(7) }, { time: T0 + 1 }) // 1: deps 0
  await ledger.append(me, 'transfer', { to: a.publicKey, amount: credits(1) }, { time: T0 + 2 }) // 2: deps 1
  await ledger.append(a, 'transfer', { to: me.publicKey, amount: credits(2) }, { time: T0 + 3 }) // 3: prev 0, deps 2
  await ledger.append(b, 'stake', { amount: credits(50) }, { time: T0 + 4 }) // 4: prev 1
  const result = { root: ledger.stateRootHex(), size: ledger.size }
  await ledger.close()
  return result
}

describe('edge-net ledger export / verify', () => {
  let tmp: ReturnType<typeof tempDir>
  let dir: string
  let file: string
  let exported: Uint8Array
  let filled: { root: string, size: number }

  before(async () => {
    tmp = tempDir()
    dir = join(tmp.dir, 'node')
    file = join(tmp.dir, 'ledger.enx')
    const keygen = await runCli(['keygen', '--data', dir])
    assert.equal(keygen.code, 0, keygen.stderr)
    filled = await fillLedger(dir)
  })
  after(() => tmp.remove())

  it('exports to a file and verifies it (exit 0, same root and count)', async () => {
    const run = await runCli(['ledger', 'export', file, '--data', dir, '--json'])
    assert.equal(run.code, 0, run.stderr)
    const out = JSON.parse(run.stdout) as { events: number, stateRoot: string, bytes: number }
    assert.equal(out.events, filled.size)
    assert.equal(out.stateRoot, filled.root)
    exported = new Uint8Array(readFileSync(file))
    assert.equal(out.bytes, exported.length)
    const verify = await runCli(['ledger', 'verify', file, '--json', '--expect-root', filled.root])
    assert.equal(verify.code, 0, verify.stderr)
    assert.deepEqual(JSON.parse(verify.stdout), {
      ok: true, file, events: filled.size, stateRoot: filled.root, networkId: 'edge-net-export-test',
      minted: credits(300).toString(), burned: '0', accounts: 3
    })
    assert.equal(verify.stderr, '')
  })

  it('exports to stdout with - and verifies from stdin with -, byte for byte the same', async () => {
    const run = await runCli(['ledger', 'export', '-', '--data', dir])
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(run.stdoutBytes, exported)
    const verify = await runCli(['ledger', 'verify', '-'], { input: run.stdoutBytes })
    assert.equal(verify.code, 0, verify.stderr)
    assert.match(verify.stdout, new RegExp(`state root:\\s+${filled.root}`))
  })

  it('verify refuses a wrong --expect-root with ERR_EXPORT_STATE_ROOT', async () => {
    const run = await runCli(['ledger', 'verify', file, '--expect-root', '00'.repeat(32)])
    assert.equal(run.code, 1)
    assert.equal(errorCode(run), 'ERR_EXPORT_STATE_ROOT')
  })

  const damage: Array<[string, string, (bytes: Uint8Array) => Uint8Array]> = [
    ['one byte changed inside an event', 'ERR_EXPORT_DIGEST', (bytes) => {
      const out = bytes.slice()
      out[Math.floor(out.length / 2)] = (out[Math.floor(out.length / 2)] as number) ^ 0x01
      return out
    }],
    ['one byte changed in the digest', 'ERR_EXPORT_DIGEST', (bytes) => {
      const out = bytes.slice()
      out[out.length - 1] = (out[out.length - 1] as number) ^ 0x80
      return out
    }],
    ['truncated by one byte', 'ERR_EXPORT_TRUNCATED', (bytes) => bytes.slice(0, -1)],
    ['truncated to half', 'ERR_EXPORT_TRUNCATED', (bytes) => bytes.slice(0, bytes.length >> 1)],
    ['an event dropped without fixing the header', 'ERR_EXPORT_TRUNCATED', (bytes) => {
      const parts = splitExport(bytes)
      const forged = joinExport({ ...parts, events: parts.events.slice(1) })
      const out = forged.slice()
      out.set(bytes.subarray(12, 20), 12) // keep the original length field
      return out
    }],
    ['bytes appended', 'ERR_EXPORT_MALFORMED', (bytes) => Uint8Array.of(...bytes, 0)],
    ['not an export', 'ERR_EXPORT_BAD_MAGIC', () => new TextEncoder().encode('{"events": []}')],
    ['an empty file', 'ERR_EXPORT_BAD_MAGIC', () => new Uint8Array(0)],
    ['another version', 'ERR_EXPORT_VERSION', (bytes) => { const out = bytes.slice(); out[11] = 2; return reseal(out) }],
    ['one event byte changed and the digest recomputed', 'ERR_EXPORT_BAD_EVENT', (bytes) => {
      const parts = splitExport(bytes)
      const e = (parts.events[2] as Uint8Array).slice()
      e[e.length - 5] = (e[e.length - 5] as number) ^ 0x01 // inside the signature
      return joinExport({ ...parts, events: parts.events.map((x, i) => i === 2 ? e : x) })
    }],
    ['two events swapped (digest recomputed)', 'ERR_EXPORT_ORDER', (bytes) => {
      const parts = splitExport(bytes)
      const [e0, e1, ...rest] = parts.events as [Uint8Array, Uint8Array, ...Uint8Array[]]
      return joinExport({ ...parts, events: [e1, e0, ...rest] })
    }],
    ['an event dropped (count and digest recomputed)', 'ERR_EXPORT_MISSING_DEPENDENCY', (bytes) => {
      const parts = splitExport(bytes)
      return joinExport({ ...parts, events: parts.events.filter((_, i) => i !== 0) })
    }],
    ['the last event dropped (count and digest recomputed)', 'ERR_EXPORT_STATE_ROOT', (bytes) => {
      const parts = splitExport(bytes)
      return joinExport({ ...parts, events: parts.events.slice(0, -1) })
    }],
    ['an event repeated', 'ERR_EXPORT_BAD_EVENT', (bytes) => {
      const parts = splitExport(bytes)
      return joinExport({ ...parts, events: [...parts.events, parts.events[0] as Uint8Array] })
    }],
    ['another network id in the header', 'ERR_EXPORT_BAD_EVENT', (bytes) => {
      const parts = splitExport(bytes)
      return joinExport({ ...parts, header: { ...parts.header, network: { ...(parts.header.network as object), networkId: 'other' } } })
    }],
    ['a header that is not a network', 'ERR_EXPORT_MALFORMED', (bytes) => {
      const parts = splitExport(bytes)
      return joinExport({ ...parts, header: { ...parts.header, network: { networkId: 7 } } })
    }]
  ]
  it('verify refuses every kind of damage with its own code, exit 1', async () => {
    await Promise.all(damage.map(async ([what, code, mutate], i) => {
      const damaged = mutate(exported)
      // In process first (cheap, and shows the reason if it fails), then as the user runs it.
      await assert.rejects(verifyLedgerExport(damaged), (err: unknown) => err instanceof LedgerFileError && err.code === code, what)
      const path = join(tmp.dir, `damaged-${i}.enx`)
      writeFileSync(path, damaged)
      const run = await runCli(['ledger', 'verify', path, '--json'])
      assert.equal(run.code, 1, what)
      assert.equal(errorCode(run), code, what)
      assert.equal(run.stdout, '', what)
    }))
  })

  it('verify of a missing file is ERR_FILE_IO', async () => {
    const run = await runCli(['ledger', 'verify', join(tmp.dir, 'nope.enx')])
    assert.equal(run.code, 1)
    assert.equal(errorCode(run), 'ERR_FILE_IO')
  })

  it('export refuses - together with --json (both want stdout)', async () => {
    const run = await runCli(['ledger', 'export', '-', '--json', '--data', dir])
    assert.equal(run.code, 2)
    assert.equal(errorCode(run), 'ERR_USAGE')
  })
})

describe('ledger export format (in process)', () => {
  let bytes: Uint8Array
  let root: Uint8Array
  before(async () => {
    const [a, b, c] = await identities(3) as [Identity, Identity, Identity]
    const ledger = Ledger.create({ config: { networkId: 'format-test', trialDifficulty: 4, genesis: [a, b, c].map(x => ({ account: x.publicKey, amount: credits(50) })) } })
    const who = [a, b, c]
    for (let i = 0; i < 12; i++) {
      const from = who[i % 3] as Identity
      const to = who[(i + 1) % 3] as Identity
      await ledger.append(from, 'transfer', { to: to.publicKey, amount: BigInt(1000 + i) }, { time: T0 + i })
    }
    root = ledger.stateRoot()
    bytes = concat(encodeLedgerExport(ledger))
  })

  it('is deterministic and round-trips: parse gives the events and root back', async () => {
    const parsed = parseLedgerExport(bytes)
    assert.equal(parsed.events.length, 12)
    assert.deepEqual(parsed.stateRoot, root)
    assert.equal(parsed.network.networkId, 'format-test')
    const verified = await verifyLedgerExport(bytes)
    assert.deepEqual(verified.stateRoot, root)
    assert.deepEqual(concat(encodeLedgerExport(verified.ledger)), bytes)
  })

  it('refuses every single-byte change and every truncation (property, seeded)', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)
    const refused = new Set<string>()
    await fc.assert(fc.asyncProperty(
      fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.nat({ max: bytes.length - 1 }),
      async (at, xor, cut) => {
        const flipped = bytes.slice()
        flipped[at] = (flipped[at] as number) ^ xor
        for (const damaged of [flipped, bytes.slice(0, cut)]) {
          try {
            await verifyLedgerExport(damaged)
            return false
          } catch (err) {
            if (!(err instanceof LedgerFileError)) throw err
            refused.add(err.code)
          }
        }
        return true
      }), { seed, numRuns: 200 }).catch((err: unknown) => { throw new Error(`seed ${seed}: ${(err as Error).message}`) })
    assert.ok(refused.has('ERR_EXPORT_DIGEST') && refused.has('ERR_EXPORT_TRUNCATED'), `seed ${seed}: codes seen ${[...refused].join()}`)
  })

  it('refuses every reordering that moves an event before its dependency (property, seeded)', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)
    const parts = splitExport(bytes)
    await fc.assert(fc.asyncProperty(fc.nat({ max: 10 }), fc.integer({ min: 1, max: 11 }), async (i, gap) => {
      const j = Math.min(11, i + gap)
      const events = parts.events.slice()
      const [moved] = events.splice(j, 1)
      events.splice(i, 0, moved as Uint8Array) // event j now precedes its own prev (and maybe deps)
      try {
        await verifyLedgerExport(joinExport({ ...parts, events }))
        return false
      } catch (err) {
        return isErrorCode(err, 'ERR_EXPORT_ORDER')
      }
    }), { seed, numRuns: 60 }).catch((err: unknown) => { throw new Error(`seed ${seed}: ${(err as Error).message}`) })
  })
})

function concat (chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let at = 0
  for (const c of chunks) { out.set(c, at); at += c.length }
  return out
}
