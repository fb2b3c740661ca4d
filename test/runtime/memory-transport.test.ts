/**
 * MemoryTransport (src/runtime/memory-network.ts) against the Transport compliance suite, on a
 * loss-free network (the suite checks exactly-once delivery; loss and duplication are the
 * simulator's own knobs, tested in simulation.test.ts). The memory network has no size cap: the
 * suite checks that 1 MiB arrives intact and states that nothing larger is refused.
 */
import { randomBytes } from 'node:crypto'
import { MemoryNetwork } from '../../src/runtime/memory-network.ts'
import { transportCompliance } from '../compliance/transport.ts'
import type { TransportFixture } from '../compliance/transport.ts'

const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31)

function fixture (authenticated: boolean) {
  return async (count: number): Promise<TransportFixture> => {
    const network = new MemoryNetwork({ seed, authenticated })
    const transports = Array.from({ length: count }, () => network.join(new Uint8Array(randomBytes(32))))
    // In one process a peer can only speak through its own transport: the best forgery is to
    // name the victim in the topic and data, and the network still stamps the attacker's key.
    const impersonate = async (_victim: Uint8Array, target: number, topic: string, data: Uint8Array): Promise<void> => {
      const to = transports[target]
      if (to === undefined) throw new RangeError('no such peer')
      network.join(new Uint8Array(randomBytes(32))).send(to.self, topic, data)
    }
    return { transports, impersonate, cleanup: async () => {} }
  }
}

const common = { maxMessageBytes: 1024 * 1024, oversize: 'unlimited', quietMs: 30 } as const
transportCompliance(`MemoryTransport (authenticated, seed ${seed})`, fixture(true), { ...common, authenticated: true })
transportCompliance(`MemoryTransport (unauthenticated, seed ${seed})`, fixture(false), { ...common, authenticated: false })
