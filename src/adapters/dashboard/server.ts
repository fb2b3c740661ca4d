/**
 * The node dashboard's HTTP server (issue 4 §4), on node:http, read-only.
 *
 * Routes (GET only; anything else is 405, an unknown path 404):
 * - `/`                  the page (`/?token=…` once when a token is set: see ./access.ts)
 * - `/static/…`          the page's script, style sheet, icon, and the uPlot charting library
 * - `/api/snapshot`      the source's current {@link DashboardSnapshot} as JSON
 * - `/events`            Server-Sent Events (WHATWG HTML §9.2): `event: snapshot` with the JSON
 *                        every `intervalMs`; `event: fault` when the source failed that tick
 *
 * Push rather than poll: one timer asks the source once per interval and writes the same bytes to
 * every open page, so ten open tabs cost the node what one does, and EventSource reconnects by
 * itself after a restart. The timer runs only while a page is connected.
 *
 * Every response carries a strict Content-Security-Policy (own origin only, no inline script or
 * style), nosniff, no-referrer and frame-ancestors 'none'. Requests are small by construction:
 * 8 KB of headers, 2 KB of URL, no body, 10 s to arrive, a cap on open connections and streams.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { isIP } from 'node:net'
import { checkToken, createAccessGate, isLoopbackHost } from './access.ts'
import { loadDashboardAssets } from './assets.ts'
import { DashboardError } from './errors.ts'
import type { DashboardSource } from './snapshot.ts'

/** Options of {@link startDashboard}. @example const o: DashboardOptions = { source, port: 0 } */
export interface DashboardOptions {
  /** What to show; polled once per interval while a page is open, and per /api/snapshot. */
  source: DashboardSource
  /** TCP port, 0..65535 (0: the system picks one; read it from the handle). */
  port: number
  /** Address to bind. Default '127.0.0.1'. Anything but loopback requires `token`. */
  host?: string
  /** Access token, 16..256 URL-safe characters (see generateDashboardToken()). */
  token?: string
  /** Push interval of /events in ms, 100..60,000. Default 1000. */
  intervalMs?: number
  /** Most simultaneous /events streams, 1..1000 (more get 503). Default 16. */
  maxStreams?: number
  /** Told when the source fails (the page shows the last good figures as stale meanwhile). */
  onError?: (err: DashboardError) => void
}

/** A running dashboard. @example const { url, close } = await startDashboard({ source, port: 0 }) */
export interface DashboardHandle {
  /** The address to open in a browser; carries `?token=…` when a token is set. */
  readonly url: string
  /** `http://host:port`, without a token. */
  readonly origin: string
  /** The port actually bound. */
  readonly port: number
  /** Stop serving: ends the event streams and closes every connection. Idempotent. */
  close: () => Promise<void>
}

const encoder = new TextEncoder()
const MAX_URL_LENGTH = 2048
const MAX_HEADER_BYTES = 8192
/** A page that cannot keep up with the stream (over 1 MB unsent) is dropped; EventSource retries. */
const MAX_STREAM_BACKLOG = 1 << 20

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()'
}

function checkOptions (options: DashboardOptions): Required<Omit<DashboardOptions, 'token' | 'onError'>> {
  if (options === null || typeof options !== 'object') {
    throw new DashboardError('ERR_DASHBOARD_BAD_OPTIONS', 'startDashboard needs an options object')
  }
  const { source, port } = options
  const host = options.host ?? '127.0.0.1'
  const intervalMs = options.intervalMs ?? 1000
  const maxStreams = options.maxStreams ?? 16
  if (source === null || typeof source !== 'object' || typeof source.snapshot !== 'function') {
    throw new DashboardError('ERR_DASHBOARD_BAD_OPTIONS', 'source must be an object with a snapshot() method')
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new DashboardError('ERR_DASHBOARD_BAD_OPTIONS', `port must be an integer in [0, 65535], got ${String(port)}`)
  }
  if (typeof host !== 'string' || host.length === 0 || host.length > 255) {
    throw new DashboardError('ERR_DASHBOARD_BAD_OPTIONS', `host must be a non-empty string, got ${String(host)}`)
  }
  if (!Number.isInteger(intervalMs) || intervalMs < 100 || intervalMs > 60_000) {
    throw new DashboardError('ERR_DASHBOARD_BAD_OPTIONS', `intervalMs must be an integer in [100, 60000], got ${String(intervalMs)}`)
  }
  if (!Number.isInteger(maxStreams) || maxStreams < 1 || maxStreams > 1000) {
    throw new DashboardError('ERR_DASHBOARD_BAD_OPTIONS', `maxStreams must be an integer in [1, 1000], got ${String(maxStreams)}`)
  }
  checkToken(options.token)
  if (options.token === undefined && !isLoopbackHost(host)) {
    throw new DashboardError('ERR_DASHBOARD_TOKEN_REQUIRED',
      `binding the dashboard to ${host} (not loopback) requires a token: pass { token: generateDashboardToken() }`)
  }
  return { source, port, host, intervalMs, maxStreams }
}

/** JSON with bigints as decimal strings (the snapshot's money convention), or a typed error. */
function serialize (value: unknown): string {
  const json = JSON.stringify(value, (_key, v: unknown) => typeof v === 'bigint' ? v.toString() : v)
  if (typeof json !== 'string') throw new TypeError('snapshot is not JSON-serializable')
  return json
}

/**
 * Serve the dashboard of `source` on `host:port` until `close()`.
 *
 * @throws DashboardError `ERR_DASHBOARD_TOKEN_REQUIRED` (non-loopback host without a token),
 *   `ERR_DASHBOARD_BAD_OPTIONS`, `ERR_DASHBOARD_ASSET_MISSING`, `ERR_DASHBOARD_LISTEN_FAILED`.
 * @example
 * const dash = await startDashboard({ source: { snapshot: () => node.dashboardSnapshot() }, port: 7070 })
 * console.log(`dashboard: ${dash.url}`)
 * // later
 * await dash.close()
 */
export async function startDashboard (options: DashboardOptions): Promise<DashboardHandle> {
  const { source, port, host, intervalMs, maxStreams } = checkOptions(options)
  const token = options.token
  const onError = options.onError
  const assets = await loadDashboardAssets()

  const streams = new Set<ServerResponse>()
  const sockets = new Set<Socket>()
  let timer: ReturnType<typeof setInterval> | null = null
  let ticking = false
  let closed = false
  let gate = createAccessGate({ token, host, port })
  let boundPort = port

  function fail (cause: unknown): DashboardError {
    const err = new DashboardError('ERR_DASHBOARD_SOURCE_FAILED', 'the dashboard source failed to give a snapshot', { cause })
    try { onError?.(err) } catch { /* a failing logger must not take the server down */ }
    return err
  }

  async function takeSnapshot (): Promise<string> {
    return serialize(await source.snapshot())
  }

  async function tick (): Promise<void> {
    if (ticking || streams.size === 0) return // a slow source: skip a beat rather than pile up
    ticking = true
    let frame: string
    try {
      frame = `event: snapshot\ndata: ${await takeSnapshot()}\n\n`
    } catch (cause) {
      fail(cause)
      frame = 'event: fault\ndata: {"code":"ERR_DASHBOARD_SOURCE_FAILED"}\n\n'
    } finally {
      ticking = false
    }
    for (const res of streams) {
      if (res.writableLength > MAX_STREAM_BACKLOG) { res.destroy(); continue }
      res.write(frame)
    }
  }

  function startTimer (): void {
    if (timer === null) timer = setInterval(() => { void tick() }, intervalMs)
  }

  function stopTimerIfIdle (): void {
    if (streams.size === 0 && timer !== null) { clearInterval(timer); timer = null }
  }

  function send (res: ServerResponse, status: number, type: string, text: string | Uint8Array, extra: Record<string, string> = {}): void {
    const body = typeof text === 'string' ? encoder.encode(text) : text
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': type,
      'Content-Length': String(body.byteLength),
      'Cache-Control': 'no-store',
      ...extra
    })
    res.end(body)
  }

  function sendError (res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
    send(res, status, 'application/json; charset=utf-8', serialize({ error: { status, message } }), extra)
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/'
    if (rawUrl.length > MAX_URL_LENGTH) { sendError(res, 414, 'URI too long'); return }
    if (req.method !== 'GET') { sendError(res, 405, 'only GET is served', { Allow: 'GET' }); return }
    if (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') {
      sendError(res, 413, 'requests carry no body'); return
    }
    if (req.headers['transfer-encoding'] !== undefined) { sendError(res, 413, 'requests carry no body'); return }
    if (!gate.hostAllowed(req)) { sendError(res, 403, 'unexpected Host header'); return }

    let url: URL
    try {
      url = new URL(rawUrl, 'http://dashboard.invalid')
    } catch {
      sendError(res, 400, 'bad request target'); return
    }
    const path = url.pathname
    // The token is accepted in the query on the page only: elsewhere it would end up in logs.
    const queryToken = path === '/' ? url.searchParams.get('token') : null
    const access = gate.check(req, queryToken)
    if (access === 'missing') {
      sendError(res, 401, 'a token is required: open the URL the node printed', { 'WWW-Authenticate': 'Bearer realm="edge-net dashboard"' })
      return
    }
    if (access === 'wrong') { sendError(res, 403, 'wrong token'); return }
    if (queryToken !== null && token !== undefined) {
      // Move the token into a cookie and out of the address bar and history.
      res.writeHead(303, { ...SECURITY_HEADERS, Location: '/', 'Set-Cookie': gate.cookie(), 'Cache-Control': 'no-store', 'Content-Length': '0' })
      res.end()
      return
    }

    if (path === '/api/snapshot') {
      let body: string
      try {
        body = await takeSnapshot()
      } catch (cause) {
        const err = fail(cause)
        sendError(res, 503, err.code)
        return
      }
      send(res, 200, 'application/json; charset=utf-8', body)
      return
    }
    if (path === '/events') { openStream(req, res); return }
    const asset = assets.get(path)
    if (asset === undefined) { sendError(res, 404, 'not found'); return }
    send(res, 200, asset.type, asset.body, { 'Cache-Control': 'no-cache' })
  }

  function openStream (req: IncomingMessage, res: ServerResponse): void {
    if (streams.size >= maxStreams) { sendError(res, 503, 'too many open dashboards', { 'Retry-After': '5' }); return }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no'
    })
    // Reconnect after 2 s if the stream drops (WHATWG HTML §9.2.6 "retry").
    res.write('retry: 2000\n\n')
    streams.add(res)
    const forget = (): void => { streams.delete(res); stopTimerIfIdle() }
    req.on('close', forget)
    res.on('close', forget)
    res.on('error', forget)
    startTimer()
    // The first frame now, not an interval later.
    void (async () => {
      try {
        const json = await takeSnapshot()
        if (!res.writableEnded) res.write(`event: snapshot\ndata: ${json}\n\n`)
      } catch (cause) {
        fail(cause)
        if (!res.writableEnded) res.write('event: fault\ndata: {"code":"ERR_DASHBOARD_SOURCE_FAILED"}\n\n')
      }
    })()
  }

  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, 'internal error')
      else res.destroy()
    })
  })
  server.maxConnections = maxStreams + 32
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => { sockets.delete(socket) })
  })
  // Malformed or oversized requests never reach the handler; answer them as Node would, and close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request'
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    else socket.destroy()
  })

  await new Promise<void>((resolve, reject) => {
    const onListenError = (cause: Error): void => {
      reject(new DashboardError('ERR_DASHBOARD_LISTEN_FAILED', `the dashboard cannot listen on ${host}:${port}: ${cause.message}`, { cause }))
    }
    server.once('error', onListenError)
    server.listen(port, host, () => {
      server.off('error', onListenError)
      const address = server.address()
      boundPort = typeof address === 'object' && address !== null ? address.port : port
      // The cookie name and the Host check need the real port when port 0 was asked for; set
      // before any request can be handled.
      gate = createAccessGate({ token, host, port: boundPort })
      resolve()
    })
  })

  // A wildcard bind is reachable locally through loopback; give the user an address that opens.
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  const origin = `http://${isIP(shownHost) === 6 ? `[${shownHost}]` : shownHost}:${boundPort}`
  const url = token === undefined ? `${origin}/` : `${origin}/?token=${token}`

  return {
    url,
    origin,
    port: boundPort,
    async close () {
      if (closed) return
      closed = true
      if (timer !== null) { clearInterval(timer); timer = null }
      for (const res of streams) res.end()
      streams.clear()
      await new Promise<void>(resolve => {
        server.close(() => { resolve() })
        server.closeAllConnections()
        for (const socket of sockets) socket.destroy()
      })
    }
  }
}
