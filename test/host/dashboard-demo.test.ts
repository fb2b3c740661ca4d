/**
 * The dashboard of a running demo network in headless Chromium (issue 4 §4): 3 `edge-net node`
 * processes and the demo's submitting node, whose dashboard the page shows. While the workload
 * runs the page loads without errors, shows the three peers with their tiers, and its live figures
 * change; the test saves a screenshot.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDashboard } from '../../src/adapters/dashboard/index.ts'
import type { DashboardHandle } from '../../src/adapters/dashboard/index.ts'
import { hostDashboardSource } from '../../src/host/dashboard-source.ts'
import { runDemo } from '../../src/host/demo.ts'

const CHROMIUM = '/usr/bin/chromium'
let playwright: typeof import('playwright-core') | null = null
try { playwright = await import('playwright-core') } catch { playwright = null }
const skip = playwright === null ? 'playwright-core is not installed' : !existsSync(CHROMIUM) ? `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)` : false

declare const document: { querySelector: (s: string) => { textContent: string | null } | null }

describe('the dashboard of a running 3-node demo, in Chromium', { skip }, () => {
  it('shows live figures that change while the demo runs, and saves a screenshot', async () => {
    const browser = await (playwright as typeof import('playwright-core')).chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
    let dashboard: DashboardHandle | undefined
    let dispose = (): void => {}
    const problems: string[] = []
    let checked: Promise<{ first: string, later: string, peers: number, tiers: string[], shot: string }> | undefined
    try {
      await runDemo({
        nodes: 3,
        tasks: 40,
        malicious: 0,
        seed: 5,
        inflight: 2,
        onHost: async (host) => {
          const s = hostDashboardSource(host)
          dispose = s.dispose
          dashboard = await startDashboard({ source: s.source, port: 0, intervalMs: 250 })
          const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
          page.on('console', msg => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`) })
          page.on('pageerror', err => { problems.push(`page error: ${err.message}`) })
          await page.goto(dashboard.url)
          checked = (async () => {
            const text = async (name: string): Promise<string> => await page.locator(`[data-field="${name}"]`).innerText()
            await page.waitForFunction(() => document.querySelector('[data-field="tasks.submitted"]')?.textContent !== '–')
            const first = await text('tasks.verified')
            let later = first
            for (let i = 0; i < 200 && later === first; i++) { await page.waitForTimeout(250); later = await text('tasks.verified') }
            const peers = await page.locator('[data-field="peers.rows"] tr').count()
            const tiers = await page.locator('[data-field="peers.rows"] .tier').allInnerTexts()
            const shot = join(mkdtempSync(join(tmpdir(), 'edge-net-demo-dashboard-')), 'dashboard.png')
            await page.screenshot({ path: shot, fullPage: true })
            return { first, later, peers, tiers, shot }
          })()
        },
        afterRun: async () => { await checked }
      })
      const seen = await (checked as NonNullable<typeof checked>)
      assert.notEqual(seen.later, seen.first, 'the verified count changed while the demo ran')
      assert.ok(Number(seen.later) > Number(seen.first))
      assert.equal(seen.peers, 3, 'the three node processes are listed')
      assert.ok(seen.tiers.every(t => /Elite|Trusted|Standard|Probation|Restricted/.test(t)), seen.tiers.join(','))
      assert.ok(existsSync(seen.shot))
      assert.deepEqual(problems, [])
    } finally {
      dispose()
      await dashboard?.close()
      await browser.close()
    }
  })
})
