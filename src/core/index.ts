/**
 * The core: pure TypeScript, no I/O, the same in Node and browsers. Identity, canonical codec,
 * the replicated ledger with its economy and reputation.
 */
export * from './identity/index.ts'
export * from './codec/index.ts'
export * from './economy/index.ts'
export * from './reputation/index.ts'
export * from './ledger/index.ts'
export * from './storage/index.ts'
export { EdgeNetError, isErrorCode } from './errors.ts'
export * from './tasks/index.ts'
export * from './kernels/index.ts'
