/**
 * A binary max-heap of (float64 key, uint32 value) pairs in growable typed arrays, the priority
 * queue of HNSW's beam search (hnsw.ts). A min-heap is the same heap with negated keys. No objects
 * are allocated per push, which keeps the search loop free of garbage.
 */

/**
 * Max-heap keyed by a double, holding uint32 values.
 *
 * @example
 * const h = new HnswHeap(); h.push(2, 20); h.push(5, 50)
 * h.topKey() // 5
 * h.pop()    // 50
 */
export class HnswHeap {
  #keys = new Float64Array(64)
  #vals = new Uint32Array(64)
  size = 0

  /** Empty the heap, keeping its storage. @example h.clear() */
  clear (): void { this.size = 0 }

  /** The largest key (-Infinity when empty). @example h.topKey() */
  topKey (): number { return this.size === 0 ? -Infinity : this.#keys[0] as number }

  /** Insert a pair. @example h.push(0.5, 7) */
  push (key: number, value: number): void {
    if (this.size === this.#keys.length) {
      const keys = new Float64Array(this.size * 2); keys.set(this.#keys); this.#keys = keys
      const vals = new Uint32Array(this.size * 2); vals.set(this.#vals); this.#vals = vals
    }
    const keys = this.#keys; const vals = this.#vals
    let i = this.size++
    while (i > 0) {
      const parent = (i - 1) >> 1
      const pk = keys[parent] as number
      if (pk >= key) break
      keys[i] = pk; vals[i] = vals[parent] as number
      i = parent
    }
    keys[i] = key; vals[i] = value
  }

  /** Remove the pair with the largest key and return its value (the heap must not be empty). @example h.pop() */
  pop (): number {
    const keys = this.#keys; const vals = this.#vals
    const top = vals[0] as number
    const n = --this.size
    if (n === 0) return top
    const key = keys[n] as number; const value = vals[n] as number
    let i = 0
    for (;;) {
      let child = 2 * i + 1
      if (child >= n) break
      const right = child + 1
      if (right < n && (keys[right] as number) > (keys[child] as number)) child = right
      const ck = keys[child] as number
      if (ck <= key) break
      keys[i] = ck; vals[i] = vals[child] as number
      i = child
    }
    keys[i] = key; vals[i] = value
    return top
  }
}
