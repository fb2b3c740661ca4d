/**
 * The byte format of an HNSW index (hnsw.ts), version 1. Little-endian, no padding, one encoding
 * per state (reserved byte is 0), so equal states serialize to equal bytes and
 * serialize(deserialize(b)) === b.
 *
 * ```
 * off  size            field
 * 0    4               magic 'EHNS'
 * 4    1               version (1)
 * 5    1               metric (index into HNSW_METRICS: 0 l2, 1 cosine, 2 dot)
 * 6    1               maxLevel
 * 7    1               reserved, 0
 * 8    4 × 4           dim, M, efConstruction, seed
 * 24   4 × 4           level generator state (sfc32)
 * 40   4               count
 * 44   4               entry point id (0xffffffff when count = 0)
 * 48   count·dim·4     vectors, float32 (normalized under cosine), |x| <= 1e15
 * ..   count           level of each vector
 * ..   per vector, per level 0..its level: u8 n, then n × u32 neighbour ids
 * ```
 *
 * Reading trusts nothing: every length is checked before it is read, so a truncated or forged
 * index is a `KernelError`, never an out-of-range read or a graph the search could loop in.
 */
import { KernelError } from './errors.ts'
import { LITTLE_ENDIAN } from './floats.ts'
import { HNSW_LIMITS, HNSW_METRICS, newArena, validateHnswParams } from './hnsw.ts'
import type { HnswState, HnswMetric } from './hnsw.ts'

const MAGIC = [0x45, 0x48, 0x4e, 0x53] as const // 'EHNS'
/** Current format version. @example HNSW_FORMAT_VERSION // 1 */
export const HNSW_FORMAT_VERSION = 1
const HEADER = 48
const NONE = 0xffffffff

function bad (message: string): KernelError {
  return new KernelError('ERR_KERNEL_BAD_PAYLOAD', `index: ${message}`)
}

/**
 * Write an index state to bytes.
 * @example const bytes = writeIndex(state)
 */
export function writeIndex (s: HnswState): Uint8Array {
  const { dim, M } = s.params
  const m0 = 2 * M
  let linkBytes = 0
  for (let i = 0; i < s.count; i++) {
    linkBytes += 1 + 4 * (s.links0[i * (m0 + 1)] as number)
    const up = s.upper[i]
    for (let l = 1; l <= (s.levels[i] as number); l++) linkBytes += 1 + 4 * ((up as Uint32Array)[(l - 1) * (M + 1)] as number)
  }
  const out = new Uint8Array(HEADER + s.count * dim * 4 + s.count + linkBytes)
  const view = new DataView(out.buffer)
  out.set(MAGIC, 0)
  out[4] = HNSW_FORMAT_VERSION
  out[5] = HNSW_METRICS.indexOf(s.params.metric)
  out[6] = s.maxLevel
  out[7] = 0
  view.setUint32(8, dim, true); view.setUint32(12, M, true); view.setUint32(16, s.params.efConstruction, true); view.setUint32(20, s.params.seed, true)
  for (let i = 0; i < 4; i++) view.setUint32(24 + 4 * i, s.rng[i] as number, true)
  view.setUint32(40, s.count, true)
  view.setUint32(44, s.count === 0 ? NONE : s.entry, true)
  let p = HEADER
  const values = s.arena.values; const stride = s.arena.stride
  for (let i = 0; i < s.count; i++) {
    const base = (i + 1) * stride
    if (LITTLE_ENDIAN) out.set(new Uint8Array(values.buffer, values.byteOffset + base * 4, dim * 4), p)
    else for (let j = 0; j < dim; j++) view.setFloat32(p + 4 * j, values[base + j] as number, true)
    p += dim * 4
  }
  out.set(s.levels.subarray(0, s.count), p)
  p += s.count
  for (let i = 0; i < s.count; i++) {
    for (let l = 0; l <= (s.levels[i] as number); l++) {
      const [links, off] = l === 0 ? [s.links0, i * (m0 + 1)] : [s.upper[i] as Uint32Array, (l - 1) * (M + 1)]
      const n = links[off] as number
      out[p++] = n
      for (let j = 1; j <= n; j++) { view.setUint32(p, links[off + j] as number, true); p += 4 }
    }
  }
  return out
}

/**
 * Read and validate an index. Throws `KernelError` (`ERR_KERNEL_BAD_PAYLOAD`, or
 * `ERR_KERNEL_PAYLOAD_TOO_LARGE` for an index over HNSW_LIMITS).
 * @example const state = readIndex(bytes)
 */
export function readIndex (bytes: Uint8Array): HnswState {
  if (!(bytes instanceof Uint8Array)) throw bad('not a Uint8Array')
  if (bytes.length < HEADER) throw bad(`${bytes.length} bytes is shorter than the ${HEADER}-byte header`)
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) throw bad('bad magic (not an edge-net HNSW index)')
  if (bytes[4] !== HNSW_FORMAT_VERSION) throw bad(`unsupported version ${String(bytes[4])}`)
  const metric = HNSW_METRICS[bytes[5] as number] as HnswMetric | undefined
  if (metric === undefined) throw bad(`unknown metric ${String(bytes[5])}`)
  const maxLevel = bytes[6] as number
  if (bytes[7] !== 0) throw bad('reserved byte is not 0')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const params = { dim: view.getUint32(8, true), M: view.getUint32(12, true), efConstruction: view.getUint32(16, true), metric, seed: view.getUint32(20, true) }
  try { validateHnswParams(params) } catch (err) { throw bad((err as Error).message) }
  const { dim, M } = params
  const m0 = 2 * M
  const rng = new Uint32Array(4)
  for (let i = 0; i < 4; i++) rng[i] = view.getUint32(24 + 4 * i, true)
  const count = view.getUint32(40, true)
  const entryRaw = view.getUint32(44, true)
  if (count > HNSW_LIMITS.maxVectors || count * dim > HNSW_LIMITS.maxValues) {
    throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `index: ${count} vectors of dim ${dim} is over the limit (${HNSW_LIMITS.maxVectors} vectors, ${HNSW_LIMITS.maxValues} values)`)
  }
  if (count === 0 ? (entryRaw !== NONE || maxLevel !== 0) : entryRaw >= count) throw bad('entry point out of range')
  if (maxLevel > HNSW_LIMITS.maxLevel) throw bad(`maxLevel ${maxLevel} is over ${HNSW_LIMITS.maxLevel}`)
  const fixed = HEADER + count * dim * 4 + count
  // Each vector has at least one count byte for layer 0.
  if (bytes.length < fixed + count) throw bad(`truncated: ${bytes.length} bytes, vectors and levels alone need ${fixed + count}`)

  let p = HEADER
  const row = new Float32Array(dim)
  const arena = newArena(params, count + 1)
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) {
      const x = view.getFloat32(p + 4 * j, true)
      if (!(Math.abs(x) <= HNSW_LIMITS.maxAbsValue)) throw bad(`vector ${i} value ${j} is not finite or over ${HNSW_LIMITS.maxAbsValue}`)
      row[j] = x
    }
    arena.write(i + 1, row, 0, 1)
    p += dim * 4
  }
  const levels = bytes.slice(p, p + count)
  p += count
  let seenMax = 0
  for (let i = 0; i < count; i++) {
    const l = levels[i] as number
    if (l > HNSW_LIMITS.maxLevel) throw bad(`vector ${i} has level ${l}`)
    if (l > seenMax) seenMax = l
  }
  if (count > 0 && (seenMax !== maxLevel || levels[entryRaw] !== maxLevel)) throw bad('maxLevel or entry point inconsistent with the levels')

  const links0 = new Uint32Array(count * (m0 + 1))
  const upper: Array<Uint32Array | null> = new Array(count)
  // `seen[e] === stamp` marks a neighbour already listed in the current list: no duplicates.
  const seen = new Uint32Array(count)
  let stamp = 0
  for (let i = 0; i < count; i++) {
    const li = levels[i] as number
    const up = li > 0 ? new Uint32Array(li * (M + 1)) : null
    upper[i] = up
    for (let l = 0; l <= li; l++) {
      if (p >= bytes.length) throw bad('truncated in the neighbour lists')
      const n = bytes[p++] as number
      const mmax = l === 0 ? m0 : M
      if (n > mmax) throw bad(`vector ${i} has ${n} neighbours on layer ${l}, more than ${mmax}`)
      if (p + 4 * n > bytes.length) throw bad('truncated in the neighbour lists')
      const [links, off] = l === 0 ? [links0, i * (m0 + 1)] : [up as Uint32Array, (l - 1) * (M + 1)]
      links[off] = n
      stamp++
      for (let j = 1; j <= n; j++) {
        const e = view.getUint32(p, true); p += 4
        if (e >= count || e === i) throw bad(`vector ${i} layer ${l}: neighbour ${e} out of range`)
        if ((levels[e] as number) < l) throw bad(`vector ${i} layer ${l}: neighbour ${e} is not on that layer`)
        if (seen[e] === stamp) throw bad(`vector ${i} layer ${l}: neighbour ${e} listed twice`)
        seen[e] = stamp
        links[off + j] = e
      }
    }
  }
  if (p !== bytes.length) throw bad(`${bytes.length - p} trailing bytes`)
  return { params, count, arena, levels, links0, upper, entry: count === 0 ? -1 : entryRaw, maxLevel, rng }
}
