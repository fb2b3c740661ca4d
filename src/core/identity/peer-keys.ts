/**
 * Agreement keys learnt from peers: a node that is told "seal to me with this X25519 key" checks
 * the binding signature once (verifyAgreementBinding) and remembers the answer, so a peer that
 * sends its key with every claim costs one Ed25519 verification in all, not one per claim.
 * Bounded: the least recently used peers are forgotten first, and verified again if they return.
 */
import { equalBytes, toKey } from '../bytes.ts'
import { verifyAgreementBinding } from './keys.ts'

/** Default number of peers remembered. */
export const DEFAULT_PEER_KEYS = 4096

/**
 * A cache of verified agreement-key bindings, by Ed25519 public key.
 *
 * @example
 * const keys = new PeerKeys({ networkId: 'mainnet' })
 * if (!(await keys.learn(worker, claim.agree, claim.binding))) reject()
 */
export class PeerKeys {
  readonly #networkId: string
  readonly #limit: number
  readonly #keys = new Map<string, Uint8Array>()

  constructor (options: { networkId: string, maxPeers?: number }) {
    this.#networkId = options.networkId
    this.#limit = options.maxPeers ?? DEFAULT_PEER_KEYS
    if (!Number.isSafeInteger(this.#limit) || this.#limit < 1) throw new RangeError('maxPeers must be a positive integer')
  }

  /**
   * Is `agreementPublicKey` bound to `publicKey` by `binding`? True at once for the key already
   * verified for this peer; otherwise verified and, if it holds, remembered (replacing an older
   * key of the same peer). Throws as verifyAgreementBinding does for malformed arguments.
   *
   * @example
   * await keys.learn(peer.publicKey, peer.agreementPublicKey, peer.binding) // true
   */
  async learn (publicKey: Uint8Array, agreementPublicKey: Uint8Array, binding: Uint8Array): Promise<boolean> {
    const id = toKey(publicKey)
    const known = this.#keys.get(id)
    if (known !== undefined && equalBytes(known, agreementPublicKey)) {
      this.#keys.delete(id)
      this.#keys.set(id, known)
      return true
    }
    if (!(await verifyAgreementBinding(this.#networkId, publicKey, agreementPublicKey, binding))) return false
    this.#keys.delete(id)
    this.#keys.set(id, new Uint8Array(agreementPublicKey))
    if (this.#keys.size > this.#limit) this.#keys.delete(this.#keys.keys().next().value as string)
    return true
  }

  /** The verified agreement key of a peer, if remembered. @example keys.get(worker) */
  get (publicKey: Uint8Array): Uint8Array | undefined {
    return this.#keys.get(toKey(publicKey))
  }

  /** Peers remembered. @example keys.size <= maxPeers */
  get size (): number { return this.#keys.size }
}
