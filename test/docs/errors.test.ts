/**
 * docs/errors.md and the code stay in step (as fastify's docs do): every code a domain declares is
 * documented once, every documented code is declared, and every `'ERR_…'` string in src/ is one of
 * them and is used beyond its declaration.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as edgeNet from '../../src/index.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

function declared (): string[] {
  const out: string[] = []
  for (const [name, value] of Object.entries(edgeNet)) {
    if (name.endsWith('_ERROR_CODES')) out.push(...(value as readonly string[]))
  }
  return out
}

function documented (): string[] {
  const md = readFileSync(join(root, 'docs/errors.md'), 'utf8')
  return [...md.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \|/gm)].map(m => m[1] as string)
}

function sourceFiles (dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : []
  })
}

describe('docs/errors.md', () => {
  it('documents every declared code exactly once, and nothing else', () => {
    const codes = declared()
    const docs = documented()
    assert.deepEqual([...new Set(codes)].length, codes.length, 'a code is declared by two domains')
    assert.deepEqual([...new Set(docs)].length, docs.length, 'a code is documented twice')
    assert.deepEqual([...docs].sort(), [...codes].sort())
  })

  it('covers every code string in src/, and every declared code is used', () => {
    const codes = new Set(declared())
    const uses = new Map<string, number>()
    for (const file of sourceFiles(join(root, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/'(ERR_[A-Z0-9_]+)'/g)) {
        const code = m[1] as string
        uses.set(code, (uses.get(code) ?? 0) + 1)
      }
    }
    for (const code of uses.keys()) assert.ok(codes.has(code), `${code} is used in src/ but not declared in a *_ERROR_CODES list`)
    for (const code of codes) assert.ok((uses.get(code) ?? 0) >= 2, `${code} is declared but never raised`)
  })
})
