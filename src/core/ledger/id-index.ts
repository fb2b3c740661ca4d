/**
 * The ledger's event index: 32-byte ids to dense event numbers, in an open-addressing hash table
 * over typed arrays. A `Map<string, number>` costs ~95 bytes per event here (the key string, the
 * entry, the array of keys); this costs ~50 (the id itself and a slot at <= 50% load), which
 * matters for the <= 300 bytes-per-event budget. Ids are SHA-256 digests, so their first four
 * bytes are a uniform hash; linear probing keeps lookups to a slot or two. (Grinding ids to share
 * a 32-bit prefix costs an attacker ~2^32 signed events per collision.)
 */
const ID = 32

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
    let slot = (((id[0] as number) << 24) | ((id[1] as number) << 16) | ((id[2] as number) << 8) | (id[3] as number)) & mask
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
    let slot = ((key.charCodeAt(0) << 24) | (key.charCodeAt(1) << 16) | (key.charCodeAt(2) << 8) | key.charCodeAt(3)) & mask
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

  /** Bytes held. */
  get bytesHeld (): number { return this.ids.byteLength + this.table.byteLength }

  private matches (n: number, id: Uint8Array): boolean {
    const base = n * ID
    for (let i = 0; i < ID; i++) if (this.ids[base + i] !== id[i]) return false
    return true
  }

  private place (n: number): void {
    const mask = this.table.length - 1
    const b = n * ID
    let slot = (((this.ids[b] as number) << 24) | ((this.ids[b + 1] as number) << 16) | ((this.ids[b + 2] as number) << 8) | (this.ids[b + 3] as number)) & mask
    while (this.table[slot] !== -1) slot = (slot + 1) & mask
    this.table[slot] = n
  }

  private rehash (size: number): void {
    this.table = new Int32Array(size).fill(-1)
    for (let n = 0; n < this.count; n++) this.place(n)
  }
}
