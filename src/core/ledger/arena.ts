/**
 * Append-only storage of event encodings in large shared chunks. One Uint8Array object per event
 * would cost ~100 bytes of object overhead each; here an event costs 12 bytes of index (offset
 * and length in typed arrays) beyond its encoding. Events are addressed by a dense index.
 */
const CHUNK = 1 << 20

export class EventArena {
  private chunks: Uint8Array[] = []
  private used = CHUNK
  private offsets = new Float64Array(1024)
  private lengths = new Uint32Array(1024)
  private count = 0

  get size (): number { return this.count }

  /** Copy `bytes` in and return its index. */
  push (bytes: Uint8Array): number {
    if (bytes.length > CHUNK) throw new RangeError('event larger than an arena chunk')
    if (this.used + bytes.length > CHUNK) {
      this.chunks.push(new Uint8Array(CHUNK))
      this.used = 0
    }
    const chunkIndex = this.chunks.length - 1
    ;(this.chunks[chunkIndex] as Uint8Array).set(bytes, this.used)
    if (this.count === this.offsets.length) {
      const offsets = new Float64Array(this.count * 2); offsets.set(this.offsets); this.offsets = offsets
      const lengths = new Uint32Array(this.count * 2); lengths.set(this.lengths); this.lengths = lengths
    }
    this.offsets[this.count] = chunkIndex * CHUNK + this.used
    this.lengths[this.count] = bytes.length
    this.used += bytes.length
    return this.count++
  }

  /** A view of the encoding at `index` (valid as long as the arena lives; do not mutate). */
  get (index: number): Uint8Array {
    const offset = this.offsets[index] as number
    const chunk = this.chunks[Math.floor(offset / CHUNK)] as Uint8Array
    const start = offset % CHUNK
    return chunk.subarray(start, start + (this.lengths[index] as number))
  }
}
