/**
 * identity.verify: verifies per second of verifyEd25519 (strict checks + cached key import) against
 * raw `crypto.subtle.verify` with pre-imported keys, over 20,000 signatures (64-byte messages, as
 * an event hash would be with its framing), sequentially and with 64 in flight (Promise.all over
 * windows of 64). Keys: 200 authors (the ledger case: the cache is warm after the first event of
 * each author), and a cold run where every signature has its own key (one import per verify).
 * Prints JSON: medians of 7 paired runs (see compare()).
 *
 * Run: `npx node bench/identity-verify.ts`
 */
import { fileURLToPath } from 'node:url'
import { verifyEd25519 } from '../src/core/identity/index.ts'
import type { Figure } from './run.ts'

const N = 20_000
const AUTHORS = 200
const IN_FLIGHT = 64
const RUNS = 7

type Key = Awaited<ReturnType<typeof crypto.subtle.importKey>>
interface Signed { publicKey: Uint8Array, key: Key, message: Uint8Array, signature: Uint8Array }

async function corpus (count: number, authors: number): Promise<Signed[]> {
  const pairs = await Promise.all(Array.from({ length: authors }, async () =>
    await crypto.subtle.generateKey('Ed25519', true, ['sign', 'verify']) as unknown as { privateKey: Key, publicKey: Key }))
  const raws = await Promise.all(pairs.map(async (p) => new Uint8Array(await crypto.subtle.exportKey('raw', p.publicKey))))
  const out: Signed[] = []
  for (let i = 0; i < count; i++) {
    const a = i % authors
    const message = crypto.getRandomValues(new Uint8Array(64))
    const signature = new Uint8Array(await crypto.subtle.sign('Ed25519', pairs[a]!.privateKey, message))
    out.push({ publicKey: raws[a]!, key: pairs[a]!.publicKey, message, signature })
  }
  return out
}

async function sequential (items: Signed[], verify: (s: Signed) => Promise<boolean>): Promise<number> {
  const start = performance.now()
  for (const s of items) if (!(await verify(s))) throw new Error('a valid signature failed')
  return items.length / ((performance.now() - start) / 1000)
}

async function windowed (items: Signed[], verify: (s: Signed) => Promise<boolean>): Promise<number> {
  const start = performance.now()
  for (let i = 0; i < items.length; i += IN_FLIGHT) {
    const results = await Promise.all(items.slice(i, i + IN_FLIGHT).map(verify))
    if (results.includes(false)) throw new Error('a valid signature failed')
  }
  return items.length / ((performance.now() - start) / 1000)
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/**
 * Run raw and ours alternately (swapping which goes first), so that both see the same machine
 * load, and report the median rates and the median of the paired ratios: on a shared machine
 * the pairing matters more than the number of runs.
 */
async function compare (mode: (items: Signed[], verify: (s: Signed) => Promise<boolean>) => Promise<number>, items: Signed[]):
Promise<{ rawPerSec: number, verifyEd25519PerSec: number, ratio: number }> {
  const raws: number[] = []
  const ours: number[] = []
  const ratios: number[] = []
  for (let i = 0; i < RUNS; i++) {
    let r: number, o: number
    if (i % 2 === 0) { r = await mode(items, raw); o = await mode(items, strict) } else { o = await mode(items, strict); r = await mode(items, raw) }
    raws.push(r)
    ours.push(o)
    ratios.push(o / r)
  }
  return { rawPerSec: Math.round(median(raws)), verifyEd25519PerSec: Math.round(median(ours)), ratio: Number(median(ratios).toFixed(3)) }
}

const raw = (s: Signed): Promise<boolean> => crypto.subtle.verify('Ed25519', s.key, s.signature as Uint8Array<ArrayBuffer>, s.message as Uint8Array<ArrayBuffer>)
const strict = (s: Signed): Promise<boolean> => verifyEd25519(s.publicKey, s.message, s.signature)

interface Measured {
  sequential: { rawPerSec: number, verifyEd25519PerSec: number, ratio: number }
  inFlight64: { rawPerSec: number, verifyEd25519PerSec: number, ratio: number }
  coldKeysInFlight64PerSec: number
}

async function measureAll (): Promise<Measured> {
  const warm = await corpus(N, AUTHORS)
  await windowed(warm, strict) // fill the key cache and warm up the JIT
  await windowed(warm, raw)
  const sequentialFigures = await compare(sequential, warm)
  const inFlightFigures = await compare(windowed, warm)
  // Cold: 4,000 distinct keys (within the cache bound), a fresh corpus per run so that no run
  // finds its keys cached: one import per verify.
  const coldRates: number[] = []
  for (let i = 0; i < RUNS; i++) coldRates.push(await windowed(await corpus(4000, 4000), strict))
  return { sequential: sequentialFigures, inFlight64: inFlightFigures, coldKeysInFlight64PerSec: Math.round(median(coldRates)) }
}

/**
 * The figures for `npm run bench` (bench/run.ts's Group shape).
 *
 * @example
 * const figures = await run()
 */
export async function run (): Promise<Figure[]> {
  const m = await measureAll()
  const note = `${N} signatures, ${AUTHORS} authors`
  return [
    { key: 'identity.raw_verify_seq_per_s', value: m.sequential.rawPerSec, unit: 'verifies/s', note: 'WebCrypto, pre-imported keys, one at a time' },
    { key: 'identity.verify_seq_per_s', value: m.sequential.verifyEd25519PerSec, unit: 'verifies/s', note },
    { key: 'identity.verify_seq_ratio', value: m.sequential.ratio, unit: 'x raw', goal: '>= 0.8', met: m.sequential.ratio >= 0.8 },
    { key: 'identity.raw_verify_64_per_s', value: m.inFlight64.rawPerSec, unit: 'verifies/s', note: 'WebCrypto, pre-imported keys, 64 in flight' },
    { key: 'identity.verify_64_per_s', value: m.inFlight64.verifyEd25519PerSec, unit: 'verifies/s', note },
    { key: 'identity.verify_64_ratio', value: m.inFlight64.ratio, unit: 'x raw', goal: '>= 0.8', met: m.inFlight64.ratio >= 0.8 },
    { key: 'identity.verify_cold_64_per_s', value: m.coldKeysInFlight64PerSec, unit: 'verifies/s', note: 'every key new: one import per verify' }
  ]
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const m = await measureAll()
  console.log(JSON.stringify({ bench: 'identity.verify', node: process.version, signatures: N, authors: AUTHORS, ...m }, null, 2))
}
