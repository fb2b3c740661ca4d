/**
 * MemoryEventStore against the shared EventStore compliance suite. It has no `reopen`: nothing
 * of it outlives the object, which is the point of an in-memory store for tests and simulations.
 */

import { MemoryEventStore } from '../../../src/adapters/memory/event-store.ts'
import { eventStoreCompliance } from '../../compliance/event-store.ts'

eventStoreCompliance('MemoryEventStore', async () => ({
  store: new MemoryEventStore(),
  cleanup: async () => {}
}), { numRuns: 200 })
