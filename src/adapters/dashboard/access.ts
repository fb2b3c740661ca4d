/**
 * Who may read the dashboard. The page shows balances, peers and task counts: harmless to the
 * node's owner, useful to anyone mapping the network. So:
 *
 * - On a loopback address with no token, only requests whose `Host` header names the loopback
 *   address and port are served. A web page the owner visits can make the browser send requests to
 *   127.0.0.1 through a DNS name it controls (DNS rebinding); such requests carry that name in
 *   `Host`, and are refused (as Jupyter and the Docker/Kubernetes dashboards do).
 * - Anywhere else a token is required. The page is opened once as `/?token=…`; the server answers
 *   with an HttpOnly, SameSite=Strict cookie and a redirect to `/`, so the token leaves the address
 *   bar and history, and the page's own requests carry the cookie. Scripts may send
 *   `Authorization: Bearer …` instead. Tokens are compared through SHA-256 digests with
 *   `timingSafeEqual`, which takes the same time whatever the inputs and whatever their lengths.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type { IncomingMessage } from 'node:http'
import { DashboardError } from './errors.ts'

/** Shortest token accepted (128 bits of base64url is 22 characters). @example MIN_TOKEN_LENGTH === 16 */
export const MIN_TOKEN_LENGTH = 16

/** Tokens travel in a query string, a cookie and a header, so they are limited to URL-safe characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/

/**
 * A fresh random dashboard token: 32 random bytes as base64url (43 characters).
 *
 * @example
 * const token = generateDashboardToken()
 * await startDashboard({ source, port: 8080, host: '0.0.0.0', token })
 */
export function generateDashboardToken (): string {
  return randomBytes(32).toString('base64url')
}

/**
 * True for an address only this machine can reach: 127.0.0.0/8, ::1, ::ffff:127.x, 'localhost'.
 *
 * @example
 * isLoopbackHost('127.0.0.1')  // true
 * isLoopbackHost('0.0.0.0')    // false (every interface)
 */
export function isLoopbackHost (host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h
  return isIP(v4) === 4 && v4.startsWith('127.')
}

/**
 * Check a token option: undefined, or a string of 16 to 256 URL-safe characters.
 * @throws DashboardError `ERR_DASHBOARD_BAD_OPTIONS`.
 */
export function checkToken (token: unknown): asserts token is string | undefined {
  if (token === undefined) return
  if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) {
    throw new DashboardError('ERR_DASHBOARD_BAD_OPTIONS',
      `the dashboard token must be ${MIN_TOKEN_LENGTH} to 256 characters of [A-Za-z0-9._~-] (generateDashboardToken() makes one)`)
  }
}

/** The outcome of an access check: serve, 401 (no credentials) or 403 (wrong ones). */
export type AccessResult = 'ok' | 'missing' | 'wrong'

/** Decides whether a request may be served. @example const gate = createAccessGate({ token, port }) */
export interface AccessGate {
  /** The name of the cookie that carries the token (per port: cookies ignore ports). */
  readonly cookieName: string
  /** Check a request's credentials; `queryToken` is the `?token=` of the page request, if any. */
  check: (req: IncomingMessage, queryToken: string | null) => AccessResult
  /** Whether the `Host` header is acceptable (always true when a token guards the server). */
  hostAllowed: (req: IncomingMessage) => boolean
  /** The Set-Cookie value that stores the token in the browser. */
  cookie: () => string
}

/**
 * Build the access gate of one dashboard server.
 * @example
 * const gate = createAccessGate({ token: undefined, host: '127.0.0.1', port: 8080 })
 * gate.check(req, null) // 'ok' without a token
 */
export function createAccessGate (init: { token: string | undefined, host: string, port: number }): AccessGate {
  const { token, port } = init
  const cookieName = `edgenet_dashboard_${port}`
  const expected = token === undefined ? null : digest(token)
  const allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`])
  const bound = init.host.toLowerCase()
  allowedHosts.add(isIP(bound) === 6 ? `[${bound}]:${port}` : `${bound}:${port}`)

  function matches (given: string): boolean {
    // Digests of equal length, so timingSafeEqual never throws and leaks no length.
    return expected !== null && timingSafeEqual(digest(given), expected)
  }

  return {
    cookieName,
    check (req, queryToken) {
      if (expected === null) return 'ok'
      const offered: string[] = []
      const auth = req.headers.authorization
      if (typeof auth === 'string' && /^Bearer /i.test(auth)) offered.push(auth.slice(7).trim())
      const fromCookie = readCookie(req.headers.cookie, cookieName)
      if (fromCookie !== null) offered.push(fromCookie)
      if (queryToken !== null) offered.push(queryToken)
      if (offered.length === 0) return 'missing'
      // Every offered credential is compared (no early exit on the first), then any match wins.
      let ok = false
      for (const candidate of offered) ok = matches(candidate) || ok
      return ok ? 'ok' : 'wrong'
    },
    hostAllowed (req) {
      if (expected !== null) return true
      const host = req.headers.host
      return typeof host === 'string' && allowedHosts.has(host.toLowerCase())
    },
    cookie () {
      return `${cookieName}=${token ?? ''}; HttpOnly; SameSite=Strict; Path=/`
    }
  }
}

function digest (s: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(s, 'utf8').digest())
}

/** The value of cookie `name` in a Cookie header (RFC 6265 §5.4 syntax), or null. */
function readCookie (header: string | undefined, name: string): string | null {
  if (header === undefined) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return null
}
