/**
 * `npm run sim -- --workers 50 --liars 0.2 [--collude] [--copiers 0.1] [--crash 0.1] --tasks 3000 --seed N --json`
 *
 * Runs the seeded in-process network (src/runtime/simulation.ts) and prints one JSON object:
 * wrongAcceptRate, replicasPerTask, liarsSlashedWithin100, honestSlashed, copiersPaid, escrowLost,
 * tasks {submitted, verified, failed}, and more. Without --json it prints the same object indented.
 * SIM_DEBUG=1 also prints every failed task's error and every error a node reports (stderr).
 */
import { parseArgs } from 'node:util'
import { simulate } from '../src/runtime/simulation.ts'

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '50' },
    liars: { type: 'string', default: '0' },
    collude: { type: 'boolean', default: false },
    copiers: { type: 'string', default: '0' },
    crash: { type: 'string', default: '0' },
    tasks: { type: 'string', default: '3000' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    redundancy: { type: 'string', default: '3' },
    'spot-checks': { type: 'string', default: '0.05' },
    drop: { type: 'string', default: '0' },
    duplicate: { type: 'string', default: '0' },
    'no-referee': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false }
  }
})

const num = (name: string, v: string | undefined): number => {
  const n = Number(v)
  if (!Number.isFinite(n)) { console.error(`--${name} must be a number, got ${String(v)}`); process.exit(2) }
  return n
}

try {
  const report = await simulate({
    workers: num('workers', values.workers),
    liars: num('liars', values.liars),
    collude: values.collude,
    copiers: num('copiers', values.copiers),
    crash: num('crash', values.crash),
    tasks: num('tasks', values.tasks),
    seed: num('seed', values.seed),
    redundancy: num('redundancy', values.redundancy),
    spotCheckRate: num('spot-checks', values['spot-checks']),
    drop: num('drop', values.drop),
    duplicate: num('duplicate', values.duplicate),
    referee: !values['no-referee']
  })
  console.log(values.json ? JSON.stringify(report) : JSON.stringify(report, null, 2))
} catch (err) {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : err)
  process.exitCode = 2
}
