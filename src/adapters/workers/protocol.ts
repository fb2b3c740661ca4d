/**
 * The messages between the pool (worker-pool.ts) and its threads (worker-entry.ts), and the one
 * rule both sides follow to move bytes across: transfer, never copy twice.
 */

/** Pool → worker: run one task. @example const m: TaskMessage = { id: 1, type: 'custom_wasm', payload } */
export interface TaskMessage {
  id: number
  type: string
  payload: Uint8Array
}

/** Worker → pool. @example const r: WorkerReply = { kind: 'ready' } */
export type WorkerReply =
  | { kind: 'ready' }
  | { kind: 'done', id: number, output: Uint8Array }
  | { kind: 'failed', id: number, error: { name: string, code: string | undefined, message: string } }

/** What the pool passes as `workerData`. @example const init: WorkerInit = { kernelsModule: 'file:///k.ts' } */
export interface WorkerInit {
  kernelsModule?: string
}

/**
 * Bytes that can be transferred without taking anything else from the sender: the view must cover
 * its whole (non-shared) buffer; otherwise copy once and transfer the copy.
 *
 * @example const [bytes, transfer] = transferable(out); port.postMessage({ bytes }, transfer)
 */
export function transferable (bytes: Uint8Array): [Uint8Array, ArrayBuffer[]] {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
  const own = whole ? bytes : bytes.slice()
  return [own, [own.buffer as ArrayBuffer]]
}

