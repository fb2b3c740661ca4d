/**
 * `npm run bench [-- --only ledger,identity]`: runs benchmark groups (not tests), merges their
 * figures into bench/results.json (nested keys, numbers) and rewrites BENCHMARKS.md with the
 * machine, Node version and date. Figures are measured on a shared, noisy machine: compare a
 * figure with its peer measured in the same run (a ratio), not with a constant.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { cpus, totalmem, platform, arch } from 'node:os'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

export interface Figure { key: string, value: number, unit: string, goal?: string, met?: boolean, note?: string }
export type Group = () => Promise<Figure[]>

const here = dirname(fileURLToPath(import.meta.url))
const groups: Record<string, () => Promise<Group>> = {
  ledger: async () => (await import('./ledger.ts')).run,
  identity: async () => (await import('./identity-verify.ts')).run,
  kernels: async () => (await import('./kernels.ts')).run,
  tasks: async () => (await import('./tasks.ts')).run,
  network: async () => (await import('./network.ts')).run
}

const onlyAt = process.argv.indexOf('--only')
const only = onlyAt === -1 ? Object.keys(groups) : (process.argv[onlyAt + 1] ?? '').split(',').filter(Boolean)
for (const name of only) if (!(name in groups)) { console.error(`unknown group '${name}'; groups: ${Object.keys(groups).join(', ')}`); process.exit(2) }

const resultsPath = join(here, 'results.json')
const results = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) as Record<string, unknown> : {}
const figures: Record<string, Figure[]> = existsSync(join(here, 'figures.json')) ? JSON.parse(readFileSync(join(here, 'figures.json'), 'utf8')) : {}
const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), os: `${platform()} ${arch()}` }

for (const name of only) {
  console.error(`bench: ${name} ...`)
  const run = await (groups[name] as () => Promise<Group>)()
  const figs = await run()
  figures[name] = figs
  const nested: Record<string, unknown> = {}
  for (const f of figs) setPath(nested, f.key.split('.').slice(1), f.value)
  results[name] = nested
  for (const f of figs) console.log(`${f.key.padEnd(44)} ${String(f.value).padStart(14)} ${f.unit}${f.goal === undefined ? '' : `   goal ${f.goal}: ${f.met === true ? 'met' : 'NOT met'}`}`)
}
results.meta = { machine, node: process.version, date: new Date().toISOString().slice(0, 10) }
writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n')
writeFileSync(join(here, 'figures.json'), JSON.stringify(figures, null, 2) + '\n')
writeFileSync(join(here, '..', 'BENCHMARKS.md'), markdown(figures, results.meta as { machine: typeof machine, node: string, date: string }))

function setPath (obj: Record<string, unknown>, path: string[], value: number): void {
  let cur = obj
  for (const p of path.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>
  cur[path[path.length - 1] as string] = value
}

function markdown (figs: Record<string, Figure[]>, meta: { machine: typeof machine, node: string, date: string }): string {
  const lines = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (`npm run bench -- --only ledger` runs one group); raw figures in',
    '`bench/results.json`. The machine is shared and noisy: read a figure against its peer measured in',
    'the same run (the ratio), not as an absolute.',
    '',
    `Last run: ${meta.date}, Node ${meta.node}, ${meta.machine.cpu} (${meta.machine.cores} cores), ${meta.machine.memoryGiB} GiB, ${meta.machine.os}.`,
    ''
  ]
  for (const [group, list] of Object.entries(figs)) {
    lines.push(`## ${group}`, '', '| figure | value | unit | goal | |', '| --- | ---: | --- | --- | --- |')
    for (const f of list) lines.push(`| \`${f.key}\` | ${f.value} | ${f.unit} | ${f.goal ?? ''} | ${f.goal === undefined ? '' : f.met === true ? 'met' : '**not met**'}${f.note === undefined ? '' : ` ${f.note}`} |`)
    lines.push('')
  }
  return lines.join('\n')
}
