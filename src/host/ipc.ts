/**
 * What a node process (`edge-net node`) and the process that started it (`edge-net demo`, the
 * multi-process tests) say to each other over Node's IPC channel: the node reports `ready` with
 * its addresses, answers `status` with a report of its ledger replica, and leaves on `stop`.
 */
import { toHex } from '../core/bytes.ts'
import type { WorkerBehaviour } from '../runtime/worker-role.ts'
import type { NodeHost } from './node-host.ts'

/** A node's account and replica, as `edge-net demo --json` prints it (amounts: decimal micro-credit strings). */
export interface NodeReport {
  id: string
  publicKey: string
  malicious: boolean
  stateRoot: string
  events: number
  balance: string
  staked: string
  reserved: string
  slashed: string
  earned: string
  reputation: number
  tier: string
  livePeers: number
  tasksCompleted: number
  pending: number
}

/** Messages a node process sends. */
export type HostMessage =
  | { type: 'ready', nodeId: string, publicKey: string, addresses: string[] }
  | { type: 'status', id: number, report: NodeReport }

/** Messages a node process takes. */
export type ParentMessage = { type: 'status', id: number } | { type: 'stop' }

/**
 * The report of a running host.
 * @example send({ type: 'status', id, report: nodeReport(host, false) })
 */
export function nodeReport (host: NodeHost, malicious: boolean): NodeReport {
  const me = host.node.identity.publicKey
  const account = host.ledger.account(me)
  const rep = host.ledger.reputation(me)
  const stats = host.node.stats()
  return {
    id: host.node.identity.nodeId,
    publicKey: toHex(me),
    malicious,
    stateRoot: host.ledger.stateRootHex(),
    events: host.ledger.size,
    balance: account.balance.toString(),
    staked: account.staked.toString(),
    reserved: account.reserved.toString(),
    slashed: account.slashed.toString(),
    earned: account.earned.toString(),
    reputation: rep.composite,
    tier: rep.tier,
    livePeers: host.presence.live().length,
    tasksCompleted: stats.tasksCompleted,
    pending: stats.pending
  }
}

/**
 * A worker that always returns a wrong result (its true result with the last byte flipped): what
 * `edge-net node --behaviour liar` runs, so a demo shows verification catching and slashing it.
 * @example NodeHost.start({ ..., behaviour: lyingBehaviour() })
 */
export function lyingBehaviour (): WorkerBehaviour {
  return {
    result: async (_env, _payload, honest) => {
      const r = (await honest()).slice()
      if (r.length > 0) r[r.length - 1] = (r[r.length - 1] as number) ^ 1
      return r
    }
  }
}
