/**
 * The pending pool: events whose `prev` or `deps` have not arrived yet wait here and apply as soon
 * as the gap closes.
 *
 * Bound: at most `maxEvents` events (default 10,000; events are at most 64 KiB, so the pool holds
 * at most ~640 MiB in the worst case and ~3 MiB for typical 300-byte events). Eviction: when full,
 * the event that has waited longest is dropped (FIFO): it is the one least likely to be completed
 * soon, and a peer will offer it again during the next anti-entropy round, so dropping it loses
 * nothing durable. Pending events are held in memory only.
 */
import type { LedgerEvent } from './event.ts'

interface Entry { event: LedgerEvent, missing: Set<string> }

export class PendingPool {
  readonly maxEvents: number
  private readonly entries = new Map<string, Entry>()
  private readonly waiting = new Map<string, Set<string>>()

  constructor (maxEvents: number) {
    this.maxEvents = maxEvents
  }

  get size (): number { return this.entries.size }

  has (key: string): boolean { return this.entries.has(key) }

  /** Park an event until every key in `missing` has been applied. */
  add (event: LedgerEvent, missing: readonly string[]): void {
    if (this.entries.has(event.key) || this.maxEvents <= 0) return
    while (this.entries.size >= this.maxEvents) this.evictOldest()
    this.entries.set(event.key, { event, missing: new Set(missing) })
    for (const m of missing) {
      let set = this.waiting.get(m)
      if (set === undefined) this.waiting.set(m, set = new Set())
      set.add(event.key)
    }
  }

  /** `key` was applied: return the events that now have nothing missing, removing them. */
  resolve (key: string): LedgerEvent[] {
    const waiters = this.waiting.get(key)
    if (waiters === undefined) return []
    this.waiting.delete(key)
    const ready: LedgerEvent[] = []
    for (const w of waiters) {
      const entry = this.entries.get(w)
      if (entry === undefined) continue
      entry.missing.delete(key)
      if (entry.missing.size === 0) {
        this.entries.delete(w)
        ready.push(entry.event)
      }
    }
    return ready
  }

  /** Ids the pool is waiting for (to ask peers for them). */
  missingKeys (): string[] { return [...this.waiting.keys()] }

  private evictOldest (): void {
    const first = this.entries.keys().next()
    if (first.done === true) return
    this.drop(first.value)
  }

  private drop (key: string): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.entries.delete(key)
    for (const m of entry.missing) {
      const set = this.waiting.get(m)
      set?.delete(key)
      if (set?.size === 0) this.waiting.delete(m)
    }
  }
}
