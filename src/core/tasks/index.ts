/**
 * Tasks: the envelope a submitter signs, the protocol messages (and what travels sealed), worker selection and commitments,
 * verification (tally, referee, adaptive replication) and the submitter's state machine.
 */
export { TaskError, TASK_ERROR_CODES } from './errors.ts'
export type { TaskErrorCode } from './errors.ts'
export * from './envelope.ts'
export * from './messages.ts'
export * from './assignment.ts'
export * from './verification.ts'
export * from './coordinator.ts'
export * from './settlement.ts'
export * from './sealed.ts'
