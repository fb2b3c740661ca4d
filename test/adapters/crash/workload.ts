/**
 * The default crash workload, run inside the child (test/adapters/crash/child.ts): append events
 * in batches of 1..20 until killed, acknowledging each batch only after `append` resolved. Each
 * event's bytes are 50..400 random bytes and its id their SHA-256, all drawn from the round's
 * seed. About one batch in five also re-appends 1..3 events this child already stored, so
 * idempotent re-appends are interrupted by kills too.
 *
 * A workload module exports `run(context)`; the harness passes its path to the child, so the lead
 * can plug in a ledger workload (and a matching check) without touching the harness.
 */

import { createHash } from 'node:crypto'
import type { EventStore, StoredEvent } from '../../../src/ports.ts'
import { createPrng } from './prng.ts'

/** What the child hands a workload. */
export interface WorkloadContext {
  /** The store under test, opened on the round's file. */
  store: EventStore
  /** The round's seed: the workload's only source of randomness. */
  seed: number
  /** Extra arguments given to the harness (`workloadArgs`). */
  args: readonly string[]
  /** Tell the parent these events are durable. Call only after the `append` holding them resolved. */
  ack: (events: readonly StoredEvent[]) => void
  /** Send the parent's check a free-form line (no newlines). */
  note: (text: string) => void
}

/** Stop on our own after this many batches, in case no parent is there to kill us. */
const MAX_BATCHES = 200_000

/**
 * Append random content-addressed events in random batches until killed.
 *
 * @example
 * await run({ store, seed: 7, args: [], ack: () => {}, note: () => {} })
 */
export async function run ({ store, seed, ack }: WorkloadContext): Promise<void> {
  const rng = createPrng(seed)
  const recent: StoredEvent[] = []
  for (let n = 0; n < MAX_BATCHES; n++) {
    const batch: StoredEvent[] = []
    const size = rng.int(1, 20)
    for (let i = 0; i < size; i++) {
      const bytes = rng.bytes(rng.int(50, 400))
      batch.push({ id: new Uint8Array(createHash('sha256').update(bytes).digest()), bytes })
    }
    if (recent.length > 0 && rng.int(1, 5) === 1) {
      for (let k = rng.int(1, 3); k > 0; k--) {
        batch.splice(rng.int(0, batch.length), 0, recent[rng.int(0, recent.length - 1)] as StoredEvent)
      }
    }
    await store.append(batch)
    ack(batch)
    // node:sqlite is synchronous, so without this the loop would run on microtasks alone and
    // starve the event loop: stdout could not drain and the child's exit timers would never fire.
    await new Promise((resolve) => setImmediate(resolve))
    for (const e of batch) {
      if (recent.length < 64) recent.push(e)
      else recent[rng.int(0, 63)] = e
    }
  }
}
