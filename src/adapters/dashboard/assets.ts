/**
 * The page's files: a fixed table from URL path to file, read once when the server starts. No
 * path from a request ever reaches the file system, so there is nothing to traverse.
 *
 * The charting library is uPlot (MIT, ~50 KB minified, no dependencies, canvas): served from the
 * package's own node_modules as its IIFE build, which a plain `<script src>` loads without a
 * bundler, and which needs no `unsafe-inline` or `unsafe-eval` (it styles elements through CSSOM).
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { DashboardError } from './errors.ts'

/** One servable file. @example const a: DashboardAsset = { type: 'text/css; charset=utf-8', body } */
export interface DashboardAsset {
  /** The Content-Type header. */
  readonly type: string
  readonly body: Uint8Array
}

const STATIC_DIR = new URL('./static/', import.meta.url)

/** URL path → [where the file is, its content type]. */
function assetTable (): Array<[string, string, string]> {
  const require = createRequire(import.meta.url)
  const uplot = (file: string): string => {
    try {
      return require.resolve(`uplot/dist/${file}`)
    } catch (cause) {
      throw new DashboardError('ERR_DASHBOARD_ASSET_MISSING', `the charting library uplot is not installed (npm install uplot): ${file}`, { cause })
    }
  }
  const local = (file: string): string => fileURLToPath(new URL(file, STATIC_DIR))
  return [
    ['/', local('index.html'), 'text/html; charset=utf-8'],
    ['/static/dashboard.js', local('dashboard.js'), 'text/javascript; charset=utf-8'],
    ['/static/dashboard.css', local('dashboard.css'), 'text/css; charset=utf-8'],
    ['/static/favicon.svg', local('favicon.svg'), 'image/svg+xml'],
    ['/static/uPlot.iife.min.js', uplot('uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['/static/uPlot.min.css', uplot('uPlot.min.css'), 'text/css; charset=utf-8']
  ]
}

/**
 * Read every page file into memory (about 70 KB in all).
 *
 * @throws DashboardError `ERR_DASHBOARD_ASSET_MISSING` if a file is missing.
 * @example
 * const assets = await loadDashboardAssets()
 * assets.get('/')?.type // 'text/html; charset=utf-8'
 */
export async function loadDashboardAssets (): Promise<ReadonlyMap<string, DashboardAsset>> {
  const out = new Map<string, DashboardAsset>()
  for (const [path, file, type] of assetTable()) {
    try {
      out.set(path, { type, body: new Uint8Array(await readFile(file)) })
    } catch (cause) {
      throw new DashboardError('ERR_DASHBOARD_ASSET_MISSING', `dashboard asset ${path} missing at ${file}`, { cause })
    }
  }
  return out
}
