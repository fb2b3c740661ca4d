/**
 * Errors of the node dashboard (issue 4 §4). Starting the server is the only thing that throws:
 * a request that goes wrong is answered with an HTTP status, never an exception in the node.
 */
import { EdgeNetError } from '../../core/errors.ts'

/**
 * Every code a {@link DashboardError} can carry (docs/errors.md lists them).
 *
 * @example
 * DASHBOARD_ERROR_CODES.includes('ERR_DASHBOARD_TOKEN_REQUIRED') // true
 */
export const DASHBOARD_ERROR_CODES = [
  /** The dashboard was asked to bind to a non-loopback host without an access token. */
  'ERR_DASHBOARD_TOKEN_REQUIRED',
  /** A start option out of range: port, host, token (too short, bad characters), interval, source. */
  'ERR_DASHBOARD_BAD_OPTIONS',
  /** The HTTP server could not listen (port in use, address not available). */
  'ERR_DASHBOARD_LISTEN_FAILED',
  /** A page asset (or the charting library in node_modules) is missing from the package. */
  'ERR_DASHBOARD_ASSET_MISSING',
  /** A series sample that is not a finite time and a finite latency >= 0 (the tracker is unchanged). */
  'ERR_DASHBOARD_BAD_SAMPLE',
  /** The source's snapshot() threw or returned something that is not JSON; reported to onError. */
  'ERR_DASHBOARD_SOURCE_FAILED'
] as const

/** One of {@link DASHBOARD_ERROR_CODES}. @example const code: DashboardErrorCode = 'ERR_DASHBOARD_BAD_OPTIONS' */
export type DashboardErrorCode = typeof DASHBOARD_ERROR_CODES[number]

/**
 * A dashboard failure with a stable code.
 *
 * @example
 * try { await startDashboard({ source, port: 8080, host: '0.0.0.0' }) } catch (err) {
 *   if (err instanceof DashboardError && err.code === 'ERR_DASHBOARD_TOKEN_REQUIRED') { ... }
 * }
 */
export class DashboardError extends EdgeNetError {
  declare readonly code: DashboardErrorCode

  constructor (code: DashboardErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'DashboardError'
  }
}
