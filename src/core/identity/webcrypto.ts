/**
 * The WebCrypto types the identity layer names, derived from the `crypto` global so they resolve
 * the same under both tsconfigs (with @types/node, `CryptoKey` is only a value; under
 * types/core-platform.d.ts it is only an interface).
 *
 * @example
 * const cache = new Map<string, WebCryptoKey>()
 */
export type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>

/** A generated key pair (the result of generateKey for Ed25519 and X25519). @example const { privateKey } = await generateKeyPair('Ed25519') */
export interface WebCryptoKeyPair { privateKey: WebCryptoKey, publicKey: WebCryptoKey }

/**
 * View bytes as the `BufferSource` WebCrypto's types ask for. Our bytes are never backed by a
 * SharedArrayBuffer, which is the only thing the stricter type rules out.
 *
 * @example
 * await crypto.subtle.digest('SHA-256', asBufferSource(bytes))
 */
export function asBufferSource (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>
}

/**
 * Generate an extractable Ed25519 or X25519 key pair. (The platform typings disagree on what
 * generateKey returns for an algorithm object, hence one typed helper.)
 *
 * @example
 * const { privateKey, publicKey } = await generateKeyPair('X25519')
 */
export async function generateKeyPair (algorithm: 'Ed25519' | 'X25519'): Promise<WebCryptoKeyPair> {
  const usages: Array<'sign' | 'verify' | 'deriveBits'> = algorithm === 'Ed25519' ? ['sign', 'verify'] : ['deriveBits']
  return await crypto.subtle.generateKey({ name: algorithm }, true, usages) as unknown as WebCryptoKeyPair
}
