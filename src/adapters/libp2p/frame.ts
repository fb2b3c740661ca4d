/**
 * The frame of one direct message on the '/edge-net/direct/1' stream protocol. On the wire each
 * frame is preceded by an unsigned-varint length (the multiformats length prefix that libp2p's
 * `lpStream` writes and reads with a hard `maxDataLength`), and inside it is:
 *
 * ```
 * topicLength (1 byte, 1..255) | topic (UTF-8) | data (the rest)
 * ```
 *
 * The sender is not in the frame: it is the remote peer of the Noise-authenticated connection the
 * stream runs on, so a peer cannot claim to be anyone else.
 */
import { TransportError } from './errors.ts'

/** The longest topic, in UTF-8 bytes (one length byte). @example MAX_TOPIC_BYTES === 255 */
export const MAX_TOPIC_BYTES = 255

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * The UTF-8 bytes of a topic; throws TransportError ERR_BAD_TOPIC if it is empty or too long.
 *
 * @example
 * topicBytes('edge-net/tasks/1').length // 16
 */
export function topicBytes (topic: string): Uint8Array {
  if (typeof topic !== 'string' || topic.length === 0) throw new TransportError('ERR_BAD_TOPIC', 'a topic is a non-empty string')
  const bytes = encoder.encode(topic)
  if (bytes.length > MAX_TOPIC_BYTES) throw new TransportError('ERR_BAD_TOPIC', `a topic is at most ${MAX_TOPIC_BYTES} UTF-8 bytes, got ${bytes.length}`)
  return bytes
}

/**
 * Build a frame (without its length prefix).
 *
 * @example
 * const frame = encodeDirectFrame('edge-net/task-direct/1', data)
 */
export function encodeDirectFrame (topic: string, data: Uint8Array): Uint8Array {
  const t = topicBytes(topic)
  const frame = new Uint8Array(1 + t.length + data.length)
  frame[0] = t.length
  frame.set(t, 1)
  frame.set(data, 1 + t.length)
  return frame
}

/**
 * Read a frame; undefined for anything malformed (an empty or non-UTF-8 topic, a truncated frame),
 * which the receiver drops.
 *
 * @example
 * const msg = decodeDirectFrame(frame) // { topic, data } | undefined
 */
export function decodeDirectFrame (frame: Uint8Array): { topic: string, data: Uint8Array } | undefined {
  const length = frame[0]
  if (length === undefined || length === 0 || frame.length < 1 + length) return undefined
  let topic: string
  try {
    topic = decoder.decode(frame.subarray(1, 1 + length))
  } catch {
    return undefined
  }
  // A plain Uint8Array copy: the frame may be a Node Buffer view into a pooled chunk.
  return { topic, data: new Uint8Array(frame.subarray(1 + length)) }
}
