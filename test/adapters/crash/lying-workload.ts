/**
 * Workloads that break the durability promise on purpose, so the crash test can show its check
 * fails when it should (a check that cannot fail proves nothing):
 * - `phantom`: acknowledges an event it never appended;
 * - `wrong-bytes`: appends an event whose bytes do not hash to its id, and acknowledges it.
 * Each appends a few honest batches first, then lies once, then exits cleanly.
 */

import { createHash } from 'node:crypto'
import type { StoredEvent } from '../../../src/ports.ts'
import { createPrng } from './prng.ts'
import type { WorkloadContext } from './workload.ts'

function honestEvent (bytes: Uint8Array): StoredEvent {
  return { id: new Uint8Array(createHash('sha256').update(bytes).digest()), bytes }
}

/** @example await run({ store, seed, args: ['phantom'], ack, note }) */
export async function run ({ store, seed, args, ack }: WorkloadContext): Promise<void> {
  const rng = createPrng(seed)
  for (let i = 0; i < 3; i++) {
    const batch = [honestEvent(rng.bytes(64)), honestEvent(rng.bytes(64))]
    await store.append(batch)
    ack(batch)
  }
  const mode = args[0]
  if (mode === 'phantom') {
    ack([honestEvent(rng.bytes(64))])
  } else if (mode === 'wrong-bytes') {
    const lie = { id: honestEvent(rng.bytes(64)).id, bytes: rng.bytes(64) }
    await store.append([lie])
    ack([lie])
  } else {
    throw new Error(`unknown mode ${String(mode)}`)
  }
}
