import { generateEvents, BENCH_CONFIG } from './bench/ledger-workload.ts'
import { Ledger } from './src/core/ledger/ledger.ts'
import { clearVerifiedMemo } from './src/core/ledger/event.ts'
import { writeFileSync, readFileSync, existsSync } from 'node:fs'
import { encode, decode } from 'cborg'
let events: Uint8Array[]
if (existsSync('/tmp/ev2.cbor')) events = decode(readFileSync('/tmp/ev2.cbor')) as Uint8Array[]
else { events = (await generateEvents(10000, 200)).events; writeFileSync('/tmp/ev2.cbor', encode(events)); process.exit(0) }
clearVerifiedMemo()
const l = Ledger.create({ config: BENCH_CONFIG })
const t = performance.now()
for (let i = 0; i < events.length; i += 256) { const r = await l.ingest(events.slice(i, i + 256)); if (r.rejected.length) throw r.rejected[0].error }
console.log('ingest/s', events.length / ((performance.now() - t) / 1000))
