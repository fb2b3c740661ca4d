/**
 * The error base of edge-net. Every failure the project reports on purpose is an `EdgeNetError`
 * subclass with a stable `code` (listed in docs/errors.md; test/docs/errors.test.ts keeps the two
 * in step) and a `name` naming its domain, as hypercore and js-libp2p do.
 *
 * @example
 * try { decodeEvent(bytes) } catch (err) { if (err instanceof EdgeNetError) console.log(err.code) }
 */
export class EdgeNetError extends Error {
  readonly code: string

  constructor (code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = 'EdgeNetError'
  }
}

/** Narrow an unknown thrown value to an edge-net error with the given code. */
export function isErrorCode (err: unknown, code: string): err is EdgeNetError {
  return err instanceof EdgeNetError && err.code === code
}
