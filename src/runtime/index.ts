/** The runtime: EdgeNode and the in-process simulated network. */
export { EdgeNode } from './edge-node.ts'
export type { EdgeNodeInit, EdgeNodeStats } from './edge-node.ts'
export type { EdgeNodeEvents, EdgeNodeEventName, TaskRunner } from './context.ts'
export { TASK_TOPIC, TASK_DIRECT_TOPIC } from './context.ts'
export type { SubmitRequest, SubmitResult, SubmitterOptions } from './submitter-role.ts'
export type { WorkerBehaviour, WorkerOptions } from './worker-role.ts'
export { MemoryNetwork, MemoryTransport, seededRandom } from './memory-network.ts'
export type { MemoryNetworkOptions, MemoryNetworkStats } from './memory-network.ts'
