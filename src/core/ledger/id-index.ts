/**
 * The ledger's event index: 32-byte ids to dense event numbers, in an open-addressing hash table
 * over typed arrays. A `Map<string, number>` costs ~95 bytes per event here (the key string, the
 * entry, the array of keys); this costs ~50 (the id itself and a slot at <= 50% load), which
 * matters for the <= 300 bytes-per-event budget.
 *
 * Ids are SHA-256 digests, but an attacker can grind them cheaply (an id leaves the signature out,
 * so a try costs one hash) to make them collide in the few bits a table slot uses and turn linear
 * probing quadratic. So the slot comes from a hash keyed with secret per-process random numbers
 * (a multiply-xor mix of 8 id bytes): without the keys, grinding cannot aim at a slot.
 */
const ID = 32
const KEYS = crypto.getRandomValues(new Uint32Array(4))
const K0 = KEYS[0] as number
const K1 = (KEYS[1] as number) | 1
const K2 = KEYS[2] as number
const K3 = (KEYS[3] as number) | 1

function mix (w0: number, w1: number): number {
  let h = Math.imul(w0 ^ K0, K1) ^ Math.imul(w1 ^ K2, K3)
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d)
  return (h ^ (h >>> 12)) >>> 0
}

function hashBytes (b: Uint8Array, o: number): number {
  return mix(
    ((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number),
    ((b[o + 4] as number) << 24) | ((b[o + 5] as number) << 16) | ((b[o + 6] as number) << 8) | (b[o + 7] as number)
  )
}

function hashKey (k: string): number {
  return mix(
    (k.charCodeAt(0) << 24) | (k.charCodeAt(1) << 16) | (k.charCodeAt(2) << 8) | k.charCodeAt(3),
    (k.charCodeAt(4) << 24) | (k.charCodeAt(5) << 16) | (k.charCodeAt(6) << 8) | k.charCodeAt(7)
  )
}

export class IdIndex {
  private ids = new Uint8Array(ID * 1024)
  private table = new Int32Array(2048).fill(-1)
  private count = 0

  get size (): number { return this.count }

  /** Add an id that is not present; returns its number. */
  add (id: Uint8Array): number {
    if (this.count === this.ids.length / ID) {
      const grown = new Uint8Array(this.ids.length * 2)
      grown.set(this.ids)
      this.ids = grown
    }
    if ((this.count + 1) * 2 > this.table.length) this.rehash(this.table.length * 2)
    const n = this.count++
    this.ids.set(id, n * ID)
    this.place(n)
    return n
  }

  /** The number of `id`, or -1. */
  get (id: Uint8Array): number {
    const mask = this.table.length - 1
    let slot = hashBytes(id, 0) & mask
    for (;;) {
      const n = this.table[slot] as number
      if (n === -1) return -1
      if (this.matches(n, id)) return n
      slot = (slot + 1) & mask
    }
  }

  /** The number of the id whose one-byte-per-char key is `key`, or -1. */
  getKey (key: string): number {
    const mask = this.table.length - 1
    let slot = hashKey(key) & mask
    for (;;) {
      const n = this.table[slot] as number
      if (n === -1) return -1
      let same = true
      const base = n * ID
      for (let i = 0; i < ID; i++) if (this.ids[base + i] !== key.charCodeAt(i)) { same = false; break }
      if (same) return n
      slot = (slot + 1) & mask
    }
  }

  /** The id numbered `n` (a view; do not keep it across `add`). */
  idAt (n: number): Uint8Array { return this.ids.subarray(n * ID, n * ID + ID) }

  /** The id numbered `n` as a one-byte-per-char key. */
  keyAt (n: number): string { return String.fromCharCode.apply(null, this.idAt(n) as unknown as number[]) }

  private matches (n: number, id: Uint8Array): boolean {
    const base = n * ID
    for (let i = 0; i < ID; i++) if (this.ids[base + i] !== id[i]) return false
    return true
  }

  private place (n: number): void {
    const mask = this.table.length - 1
    let slot = hashBytes(this.ids, n * ID) & mask
    while (this.table[slot] !== -1) slot = (slot + 1) & mask
    this.table[slot] = n
  }

  private rehash (size: number): void {
    this.table = new Int32Array(size).fill(-1)
    for (let n = 0; n < this.count; n++) this.place(n)
  }
}
