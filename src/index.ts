/**
 * edge-net for Node: the core plus the Node adapters (SQLite event store, key file).
 *
 * @example
 * import { Identity, Ledger, SqliteEventStore } from 'edge-net'
 * const ledger = await Ledger.open({ config: { networkId: 'my-net' }, store: SqliteEventStore.open('events.db') })
 */
export * from './core/index.ts'
export type { AbortOptions, Clock, EventStore, KeyStore, Random, StoredEvent } from './ports.ts'
export { SqliteEventStore } from './adapters/sqlite/event-store.ts'
export type { SqliteEventStoreOptions } from './adapters/sqlite/event-store.ts'
export { MemoryEventStore } from './adapters/memory/event-store.ts'
export { KeyFileStore, KeyStoreError, KEY_STORE_ERROR_CODES } from './adapters/keyfile/key-file-store.ts'
export { WorkerThreadsPool, WorkerPoolError, WORKER_POOL_ERROR_CODES } from './adapters/workers/index.ts'
export * from './runtime/index.ts'
export type { MessageHandler, Transport, WorkerPool } from './ports.ts'
export { Libp2pTransport, TransportError, TRANSPORT_ERROR_CODES } from './adapters/libp2p/index.ts'
export type { Libp2pTransportInit, TransportErrorCode } from './adapters/libp2p/index.ts'
export { NodeHost } from './host/node-host.ts'
export type { NodeHostInit, HostPeer } from './host/node-host.ts'
export { startDashboard, createSeriesTracker, multiplierView, generateDashboardToken, DashboardError, DASHBOARD_ERROR_CODES } from './adapters/dashboard/index.ts'
export type { DashboardHandle, DashboardOptions, DashboardSnapshot, DashboardSource } from './adapters/dashboard/index.ts'
export { hostDashboardSource } from './host/dashboard-source.ts'
export { runDemo, spawnNode, askNode, stopNode, makeNetwork } from './host/demo.ts'
export type { DemoOptions, DemoReport, NodeProcess } from './host/demo.ts'
export type { NodeReport } from './host/ipc.ts'
export { CliError, CLI_ERROR_CODES } from './cli/errors.ts'
export { LedgerFileError, LEDGER_FILE_ERROR_CODES, encodeLedgerExport, parseLedgerExport, verifyLedgerExport } from './cli/ledger-file.ts'
