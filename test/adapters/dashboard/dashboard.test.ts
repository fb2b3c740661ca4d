/**
 * The node dashboard (issue 4 §4): the HTTP server's rules (access, methods, limits, headers,
 * streams) against raw node:http requests, then the page in real headless Chromium (Debian's
 * /usr/bin/chromium through playwright-core) fed by FakeDashboardSource, a test double whose
 * figures advance with every snapshot.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { existsSync, mkdtempSync, rmSync, copyFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  startDashboard, generateDashboardToken, isLoopbackHost, DashboardError, DASHBOARD_ERROR_CODES,
  type DashboardHandle
} from '../../../src/adapters/dashboard/index.ts'
import { FakeDashboardSource } from './fake-source.ts'

interface Reply { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/** One raw HTTP request (node:http, so that Host, methods and bodies are fully under our control). */
function send (url: string, init: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, agent: false }, res => {
      const chunks: Uint8Array[] = []
      res.on('data', (c: Uint8Array) => chunks.push(c))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: new TextDecoder().decode(concat(chunks)) })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    if (init.body !== undefined) req.write(init.body)
    req.end()
  })
}

/** Open an event stream and resolve with the text received once `until` matches it. */
function readStream (url: string, headers: Record<string, string>, until: RegExp): Promise<{ status: number, text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, res => {
      let text = ''
      if (res.statusCode !== 200) { res.resume(); resolve({ status: res.statusCode ?? 0, text }); return }
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        text += c
        if (until.test(text)) { req.destroy(); resolve({ status: 200, text }) }
      })
      res.on('error', () => {})
    })
    req.on('error', err => { if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err) })
    req.end()
  })
}

function concat (chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let o = 0
  for (const c of chunks) { out.set(c, o); o += c.byteLength }
  return out
}

function assertSecurityHeaders (reply: Reply): void {
  const csp = String(reply.headers['content-security-policy'])
  assert.match(csp, /default-src 'none'/)
  assert.match(csp, /script-src 'self'(;|$)/)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
  assert.match(csp, /frame-ancestors 'none'/)
  assert.equal(reply.headers['x-content-type-options'], 'nosniff')
  assert.equal(reply.headers['referrer-policy'], 'no-referrer')
  assert.equal(reply.headers['x-frame-options'], 'DENY')
}

async function rejectsWith (p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof DashboardError && err.code === code && err.name === 'DashboardError')
}

describe('dashboard server', () => {
  describe('startDashboard()', () => {
    it('refuses a non-loopback host without a token', async () => {
      const source = new FakeDashboardSource()
      await rejectsWith(startDashboard({ source, port: 0, host: '0.0.0.0' }), 'ERR_DASHBOARD_TOKEN_REQUIRED')
      await rejectsWith(startDashboard({ source, port: 0, host: '::' }), 'ERR_DASHBOARD_TOKEN_REQUIRED')
      await rejectsWith(startDashboard({ source, port: 0, host: '192.168.1.10' }), 'ERR_DASHBOARD_TOKEN_REQUIRED')
      assert.equal(source.calls, 0)
    })

    it('binds every interface with a token, and gives a loopback URL to open', async () => {
      const token = generateDashboardToken()
      const dash = await startDashboard({ source: new FakeDashboardSource(), port: 0, host: '0.0.0.0', token })
      try {
        assert.equal(dash.url, `http://127.0.0.1:${dash.port}/?token=${token}`)
        assert.equal((await send(dash.origin + '/api/snapshot')).status, 401)
        assert.equal((await send(dash.origin + '/api/snapshot', { headers: { Authorization: `Bearer ${token}` } })).status, 200)
      } finally {
        await dash.close()
      }
    })

    it('refuses bad options with a typed error', async () => {
      const source = new FakeDashboardSource()
      await rejectsWith(startDashboard({ source, port: 0, token: 'short' }), 'ERR_DASHBOARD_BAD_OPTIONS')
      await rejectsWith(startDashboard({ source, port: 0, token: 'a token with spaces!!' }), 'ERR_DASHBOARD_BAD_OPTIONS')
      await rejectsWith(startDashboard({ source, port: 70_000 }), 'ERR_DASHBOARD_BAD_OPTIONS')
      await rejectsWith(startDashboard({ source, port: 1.5 }), 'ERR_DASHBOARD_BAD_OPTIONS')
      await rejectsWith(startDashboard({ source, port: 0, intervalMs: 10 }), 'ERR_DASHBOARD_BAD_OPTIONS')
      await rejectsWith(startDashboard({ source, port: 0, maxStreams: 0 }), 'ERR_DASHBOARD_BAD_OPTIONS')
      await rejectsWith(startDashboard({ source: {} as FakeDashboardSource, port: 0 }), 'ERR_DASHBOARD_BAD_OPTIONS')
    })

    it('reports a port in use as ERR_DASHBOARD_LISTEN_FAILED', async () => {
      const first = await startDashboard({ source: new FakeDashboardSource(), port: 0 })
      try {
        await rejectsWith(startDashboard({ source: new FakeDashboardSource(), port: first.port }), 'ERR_DASHBOARD_LISTEN_FAILED')
      } finally {
        await first.close()
      }
    })

    it('declares every code it raises', () => {
      assert.deepEqual([...DASHBOARD_ERROR_CODES].sort(), [
        'ERR_DASHBOARD_ASSET_MISSING', 'ERR_DASHBOARD_BAD_OPTIONS', 'ERR_DASHBOARD_BAD_SAMPLE',
        'ERR_DASHBOARD_LISTEN_FAILED', 'ERR_DASHBOARD_SOURCE_FAILED', 'ERR_DASHBOARD_TOKEN_REQUIRED'
      ])
    })
  })

  describe('on loopback without a token', () => {
    let dash: DashboardHandle
    let source: FakeDashboardSource
    const errors: DashboardError[] = []
    before(async () => {
      source = new FakeDashboardSource()
      dash = await startDashboard({ source, port: 0, intervalMs: 100, maxStreams: 1, onError: e => { errors.push(e) } })
    })
    after(async () => { await dash.close() })

    it('serves the page, its assets and the snapshot with security headers', async () => {
      assert.equal(dash.url, `${dash.origin}/`)
      const page = await send(dash.origin + '/')
      assert.equal(page.status, 200)
      assert.match(String(page.headers['content-type']), /^text\/html/)
      assert.doesNotMatch(page.body, /<script>|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+=/i, 'no inline script or handler')
      assertSecurityHeaders(page)
      for (const path of ['/static/dashboard.js', '/static/dashboard.css', '/static/uPlot.iife.min.js', '/static/uPlot.min.css', '/static/favicon.svg']) {
        const r = await send(dash.origin + path)
        assert.equal(r.status, 200, path)
        assert.ok(r.body.length > 0, path)
        assertSecurityHeaders(r)
      }
      const snap = await send(dash.origin + '/api/snapshot')
      assert.equal(snap.status, 200)
      assert.match(String(snap.headers['content-type']), /^application\/json/)
      assert.equal(snap.headers['cache-control'], 'no-store')
      assertSecurityHeaders(snap)
      const body = JSON.parse(snap.body) as { version: number, node: { networkId: string } }
      assert.equal(body.version, 1)
      assert.equal(body.node.networkId, 'dashboard-test')
    })

    it('writes bigint amounts as decimal strings', async () => {
      source.bigintAmounts = true
      try {
        const r = await send(dash.origin + '/api/snapshot')
        assert.equal(r.status, 200)
        const body = JSON.parse(r.body) as { account: { staked: unknown } }
        assert.equal(body.account.staked, '50000000')
      } finally {
        source.bigintAmounts = false
      }
    })

    it('refuses a foreign Host header (DNS rebinding)', async () => {
      const r = await send(dash.origin + '/api/snapshot', { headers: { Host: `evil.example:${dash.port}` } })
      assert.equal(r.status, 403)
      const ok = await send(dash.origin + '/api/snapshot', { headers: { Host: `localhost:${dash.port}` } })
      assert.equal(ok.status, 200)
    })

    it('answers only GET: 405 with Allow for every other method', async () => {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']) {
        const r = await send(dash.origin + '/api/snapshot', { method })
        assert.equal(r.status, 405, method)
        assert.equal(r.headers.allow, 'GET')
      }
    })

    it('answers 404 for unknown paths, including traversal attempts', async () => {
      for (const path of ['/nope', '/static/', '/static/server.ts', '/static/../server.ts', '/%2e%2e/package.json', '/api/snapshot/x', '/index.html']) {
        const r = await send(dash.origin + path)
        assert.equal(r.status, 404, path)
        assertSecurityHeaders(r)
      }
    })

    it('keeps requests small: no body, short URLs, small headers', async () => {
      const withBody = await send(dash.origin + '/api/snapshot', { headers: { 'Content-Length': '5' }, body: 'hello' })
      assert.equal(withBody.status, 413)
      const longUrl = await send(dash.origin + '/' + 'a'.repeat(3000))
      assert.equal(longUrl.status, 414)
      const bigHeader = await send(dash.origin + '/', { headers: { 'X-Big': 'b'.repeat(10_000) } })
      assert.equal(bigHeader.status, 431)
    })

    it('streams snapshots as Server-Sent Events and caps the number of streams', async () => {
      let second: Promise<{ status: number, text: string }> | null = null
      const first = await readStream(dash.origin + '/events', {}, /event: snapshot\ndata: .*\n\n[^]*event: snapshot\ndata: .*\n\n/)
      assert.equal(first.status, 200)
      const frames = [...first.text.matchAll(/event: snapshot\ndata: (.*)\n\n/g)].map(m => JSON.parse(m[1] as string) as { tasks: { completed: number } })
      assert.ok(frames.length >= 2)
      assert.notEqual(frames[0]?.tasks.completed, frames[1]?.tasks.completed, 'the pushed figures advance')
      assert.match(first.text, /^retry: 2000\n\n/)
      // With maxStreams 1, a second concurrent stream is turned away.
      const holder = request(dash.origin + '/events')
      const opened = new Promise<void>(resolve => { holder.on('response', res => { res.once('data', () => { resolve() }) }) })
      holder.on('error', () => {})
      holder.end()
      await opened
      second = readStream(dash.origin + '/events', {}, /event: snapshot/)
      assert.equal((await second).status, 503)
      holder.destroy()
    })

    it('answers 503 and tells onError when the source fails, then recovers', async () => {
      source.failWith = new Error('ledger busy')
      try {
        const r = await send(dash.origin + '/api/snapshot')
        assert.equal(r.status, 503)
        assert.doesNotMatch(r.body, /ledger busy/, 'internal messages stay inside')
        const last = errors.at(-1)
        assert.equal(last?.code, 'ERR_DASHBOARD_SOURCE_FAILED')
        assert.equal((last?.cause as Error).message, 'ledger busy')
      } finally {
        source.failWith = null
      }
      assert.equal((await send(dash.origin + '/api/snapshot')).status, 200)
    })
  })

  describe('with a token', () => {
    const token = generateDashboardToken()
    let dash: DashboardHandle
    before(async () => { dash = await startDashboard({ source: new FakeDashboardSource(), port: 0, token }) })
    after(async () => { await dash.close() })

    it('prints a URL that carries the token', () => {
      assert.equal(dash.url, `${dash.origin}/?token=${token}`)
      assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    })

    it('answers 401 without a token and 403 with a wrong one, on every route', async () => {
      for (const path of ['/', '/api/snapshot', '/events', '/static/dashboard.js', '/nope']) {
        const none = await send(dash.origin + path)
        assert.equal(none.status, 401, path)
        assert.match(String(none.headers['www-authenticate']), /^Bearer /)
        assertSecurityHeaders(none)
        const wrong = await send(dash.origin + path, { headers: { Authorization: `Bearer ${generateDashboardToken()}` } })
        assert.equal(wrong.status, 403, path)
        const wrongCookie = await send(dash.origin + path, { headers: { Cookie: `edgenet_dashboard_${dash.port}=${token}x` } })
        assert.equal(wrongCookie.status, 403, path)
      }
      assert.equal((await send(`${dash.origin}/?token=${token}x`)).status, 403)
    })

    it('accepts the token in the query of the page only, and moves it into a cookie', async () => {
      const r = await send(dash.url)
      assert.equal(r.status, 303)
      assert.equal(r.headers.location, '/')
      const cookie = String(r.headers['set-cookie'])
      assert.match(cookie, new RegExp(`^edgenet_dashboard_${dash.port}=${token};`))
      assert.match(cookie, /HttpOnly/)
      assert.match(cookie, /SameSite=Strict/)
      const page = await send(dash.origin + '/', { headers: { Cookie: `other=1; edgenet_dashboard_${dash.port}=${token}` } })
      assert.equal(page.status, 200)
      // A token in a data URL's query would land in logs: not accepted there.
      assert.equal((await send(`${dash.origin}/api/snapshot?token=${token}`)).status, 401)
    })

    it('serves data calls to the cookie or the bearer header', async () => {
      const byCookie = await send(dash.origin + '/api/snapshot', { headers: { Cookie: `edgenet_dashboard_${dash.port}=${token}` } })
      assert.equal(byCookie.status, 200)
      const byHeader = await send(dash.origin + '/api/snapshot', { headers: { Authorization: `Bearer ${token}` } })
      assert.equal(byHeader.status, 200)
      // The Host check is the token's job now: any Host is fine with the right token.
      const foreignHost = await send(dash.origin + '/api/snapshot', { headers: { Authorization: `Bearer ${token}`, Host: 'dashboard.lan:80' } })
      assert.equal(foreignHost.status, 200)
    })
  })

  describe('close()', () => {
    it('ends open streams, frees the port and is idempotent', async () => {
      const dash = await startDashboard({ source: new FakeDashboardSource(), port: 0, intervalMs: 100 })
      const ended = new Promise<void>(resolve => {
        const req = request(dash.origin + '/events', res => { res.resume(); res.on('end', () => { resolve() }); res.on('error', () => { resolve() }) })
        req.on('error', () => { resolve() })
        req.end()
      })
      await send(dash.origin + '/api/snapshot')
      await new Promise(resolve => setTimeout(resolve, 50))
      await dash.close()
      await ended
      await dash.close()
      await assert.rejects(send(dash.origin + '/api/snapshot'), /ECONNREFUSED/)
    })
  })

  describe('isLoopbackHost()', () => {
    it('knows loopback from the rest', () => {
      for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(h), true, h)
      for (const h of ['0.0.0.0', '::', '192.168.1.1', '10.0.0.1', 'example.com', '128.0.0.1', '::ffff:10.0.0.1', '']) assert.equal(isLoopbackHost(h), false, h)
    })
  })
})

// ---- the page in headless Chromium ---------------------------------------------------------------

// The page's globals, as the functions below that run INSIDE Chromium use them (this project's
// tsconfig has no DOM types, and should not get them for one test).
interface PageCanvas {
  width: number
  height: number
  getContext: (kind: '2d') => { getImageData: (x: number, y: number, w: number, h: number) => { data: Uint8ClampedArray } } | null
}
declare const document: {
  querySelector: (selector: string) => { textContent: string | null } | null
  querySelectorAll: (selector: string) => Iterable<PageCanvas>
}
declare const window: unknown

const CHROMIUM = '/usr/bin/chromium'
const root = fileURLToPath(new URL('../../..', import.meta.url))

async function loadPlaywright (): Promise<typeof import('playwright-core') | null> {
  try { return await import('playwright-core') } catch { return null }
}

const playwright = await loadPlaywright()
const browserSkip = playwright === null
  ? 'playwright-core is not installed (npm install -D playwright-core)'
  : !existsSync(CHROMIUM) ? `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)` : false

describe('dashboard page in Chromium', { skip: browserSkip }, () => {
  it('loads without console errors, shows live figures that change, draws the charts and the multiplier point', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-net-dashboard-'))
    const source = new FakeDashboardSource()
    // Half a minute of (virtual) history, so the charts start with a curve to draw.
    for (let i = 0; i < 30; i++) source.snapshot()
    const token = generateDashboardToken()
    const dash = await startDashboard({ source, port: 0, token, intervalMs: 200 })
    const browser = await (playwright as typeof import('playwright-core')).chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
      const problems: string[] = []
      page.on('console', msg => { if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`) })
      page.on('pageerror', err => { problems.push(`page error: ${err.message}`) })
      page.on('requestfailed', req => { problems.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`) })
      page.on('response', res => { if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`) })

      // The token URL the node prints: the server sets the cookie and redirects to '/'.
      await page.goto(dash.url)
      assert.equal(page.url(), `${dash.origin}/`, 'the token left the address bar')

      const text = (name: string): Promise<string> => page.locator(`[data-field="${name}"]`).innerText()
      await page.waitForFunction(() => document.querySelector('[data-field="tasks.completed"]')?.textContent !== '–')
      const first = { completed: await text('tasks.completed'), balance: await text('account.balance'), uptime: await text('node.uptime') }
      assert.match(first.completed, /^\d+$/)
      assert.match(first.balance, /^\d[\d,]*(\.\d+)?$/)

      // The figures change: wait for it, at most 50 looks (the stream pushes every 200 ms).
      let changed: { completed: string, balance: string } | null = null
      for (let i = 0; i < 50 && changed === null; i++) {
        await page.waitForTimeout(200)
        const now = { completed: await text('tasks.completed'), balance: await text('account.balance') }
        if (now.completed !== first.completed && now.balance !== first.balance) changed = now
      }
      assert.ok(changed !== null, `the figures did not change: still ${JSON.stringify(first)}`)
      assert.ok(Number(changed.completed) > Number(first.completed))
      assert.equal(await text('connection'), 'live')
      assert.equal(await text('node.state'), 'running')

      // Peers with their tiers, the stale one marked.
      assert.equal(await page.locator('[data-field="peers.rows"] tr').count(), 3)
      const tiers = await page.locator('[data-field="peers.rows"] .tier').allInnerTexts()
      assert.deepEqual(tiers, ['Elite', 'Trusted', 'Probation'])
      assert.equal(await page.locator('[data-field="peers.rows"] tr[data-stale="true"]').count(), 1)
      assert.equal(await text('account.tier'), 'Trusted')
      assert.equal(await text('account.staked'), '50')
      assert.equal(await page.locator('[data-field="accounts.rows"] tr').count(), 2)

      // Charts: three uPlot canvases, with data; the throughput series has points.
      await page.waitForFunction(() => {
        const d = (window as unknown as { edgeNetDashboard: { charts: Record<string, { data: unknown[][] }> } }).edgeNetDashboard
        return (d.charts.throughput?.data[0]?.length ?? 0) >= 2
      })
      assert.equal(await page.locator('.chart canvas').count(), 3)
      const charts = await page.evaluate(() => {
        const d = (window as unknown as { edgeNetDashboard: { charts: Record<string, { data: Array<Array<number | null>> }>, last: { multiplier: { value: number, networkHours: number, stage: string } } } }).edgeNetDashboard
        const nonNull = (a: Array<number | null> | undefined): number[] => (a ?? []).filter((v): v is number => v !== null)
        const m = d.charts.multiplier?.data
        const nowIndex = (m?.[2] ?? []).findIndex(v => v !== null)
        return {
          throughput: nonNull(d.charts.throughput?.data[1]),
          latency: nonNull(d.charts.latency?.data[1]),
          curvePoints: nonNull(m?.[1]).length,
          nowPoints: nonNull(m?.[2]),
          nowHours: m?.[0]?.[nowIndex],
          expected: d.last.multiplier
        }
      })
      assert.ok(charts.throughput.length >= 30 && charts.throughput.every(v => v > 0), `throughput ${JSON.stringify(charts.throughput)}`)
      assert.ok(charts.latency.length >= 30, `latency ${JSON.stringify(charts.latency)}`)
      assert.ok(charts.curvePoints >= 100)
      // The network's current point: exactly one marker, at the snapshot's hours and value.
      assert.deepEqual(charts.nowPoints, [charts.expected.value])
      assert.equal(charts.nowHours, charts.expected.networkHours)
      assert.equal(await text('multiplier.value'), `${charts.expected.value.toFixed(3)}×`)
      assert.equal(await text('multiplier.stage'), charts.expected.stage)
      assert.ok(['Pioneer', 'Early'].includes(charts.expected.stage))
      // The canvases are not blank: some pixels differ from the first one.
      const painted = await page.evaluate(() => [...document.querySelectorAll('.chart canvas')].map(c => {
        const ctx = c.getContext('2d')
        if (ctx === null) return false
        const px = ctx.getImageData(0, 0, c.width, c.height).data
        for (let i = 4; i < px.length; i += 4) if (px[i] !== px[0] || px[i + 3] !== px[3]) return true
        return false
      }))
      assert.deepEqual(painted, [true, true, true])

      assert.deepEqual(problems, [])

      const shot = join(dir, 'dashboard.png')
      await page.screenshot({ path: shot, fullPage: true })
      assert.ok(statSync(shot).size > 10_000)
      // The docs' picture: written when missing, or refreshed on request, so that `npm test` does
      // not rewrite a tracked file on every run.
      const docsShot = join(root, 'docs/dashboard.png')
      if (!existsSync(docsShot) || process.env.UPDATE_DASHBOARD_SCREENSHOT === '1') copyFileSync(shot, docsShot)
    } finally {
      await browser.close()
      await dash.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
