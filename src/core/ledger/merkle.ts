/**
 * The ledger's Merkle state root: a radix trie over the bits of the event ids (16-way, one
 * nibble per level) whose leaves are sorted buckets of at most `LEAF_MAX` ids.
 *
 * Shape. The node at a prefix is a leaf when at most `LEAF_MAX` ids start with that prefix and an
 * inner node otherwise. So the shape, and with it every digest, is a function of the set of ids
 * alone: two replicas holding the same set have the same root whatever order they added the ids
 * in. The same rule defines a digest for *every* prefix, including one that falls inside a leaf
 * bucket, which is what range sync (./sync.ts) compares.
 *
 * Node digest format (SHA-256, FIPS 180-4; the first byte separates the domains):
 * - leaf:  `SHA-256(0x00 || u32be(count) || id_1 || ... || id_count)`, ids ascending, 32 bytes each.
 *   The empty set is the leaf with no ids, so `EMPTY_DIGEST = SHA-256(00 00 00 00 00)`
 *   (`8855508aade16ec573d21e6a485dfd0a7624085c1a14b5ecdd6485de0c6839a4`) is the root of an empty ledger.
 * - inner: `SHA-256(0x01 || u16be(bitmap) || digest(child_i) for each set bit i, ascending)`, where
 *   bit i (value `1 << i`) is set when child nibble i holds at least one id.
 *
 * Memory. Ids live packed in one growable `Uint8Array` per leaf (no object per id); a node is one
 * small object. Digests are cached per node and recomputed lazily, on `root()` or a range call,
 * along the paths that `add` marked dirty.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { toHex } from '../bytes.ts'
import { EdgeNetError } from '../errors.ts'

/** Bytes in an event id (a SHA-256 digest). */
export const ID_BYTES = 32
/** Nibbles in an id: the deepest a prefix can be. */
export const MAX_PREFIX_NIBBLES = ID_BYTES * 2
/**
 * Most ids a leaf bucket holds before it splits into 16 children. Part of the digest format:
 * replicas must agree on it, so it is a constant and not an option. 256 keeps a fresh split's
 * leaves at ~16 ids, so per-leaf overhead stays under ~35 bytes per id (measured: 43-64 bytes per
 * id in all, 20k..1.5M ids), while rehashing a dirty leaf (<= 8 KiB) stays ~20 us.
 */
export const LEAF_MAX = 256

/** Root of the empty set: the leaf digest of zero ids (see the format above). */
export const EMPTY_DIGEST: Uint8Array = sha256(new Uint8Array([0, 0, 0, 0, 0]))

/** Why a Merkle set call was refused. */
export const MERKLE_ERROR_CODES = ['ERR_BAD_ID', 'ERR_BAD_PREFIX'] as const
export type MerkleErrorCode = typeof MERKLE_ERROR_CODES[number]

/**
 * A refused Merkle set call; the set is unchanged.
 * @example try { set.add(new Uint8Array(3)) } catch (err) { (err as MerkleError).code === 'ERR_BAD_ID' }
 */
export class MerkleError extends EdgeNetError {
  declare readonly code: MerkleErrorCode
  constructor (code: MerkleErrorCode, message: string) {
    super(code, message)
    this.name = 'MerkleError'
  }
}

/** A prefix of an id, one nibble (0..15) per byte, most significant nibble first. */
export type NibblePath = Uint8Array

/** The 16 children of a prefix: digest and id count for each nibble (EMPTY_DIGEST and 0 if none). */
export interface PrefixChildren {
  digests: Uint8Array[]
  counts: number[]
}

/** Nibble `depth` of a packed id starting at `offset` in `buf`. */
function nibbleAt (buf: Uint8Array, offset: number, depth: number): number {
  const byte = buf[offset + (depth >> 1)] as number
  return (depth & 1) === 0 ? byte >> 4 : byte & 15
}

/** The first `length` nibbles of an id, as a NibblePath. @example prefixOf(id, 2) */
export function prefixOf (id: Uint8Array, length: number): NibblePath {
  const out = new Uint8Array(length)
  for (let d = 0; d < length; d++) out[d] = nibbleAt(id, 0, d)
  return out
}

function leafDigest (ids: Uint8Array, start: number, end: number): Uint8Array {
  const count = end - start
  const header = new Uint8Array([0, count >>> 24, (count >>> 16) & 255, (count >>> 8) & 255, count & 255])
  return sha256.create().update(header).update(ids.subarray(start * ID_BYTES, end * ID_BYTES)).digest()
}

/** One trie node: a leaf when `ids` is set, an inner node when `children` is set. */
class TrieNode {
  count = 0
  /** Cached digest; null when an add below made it stale. */
  hash: Uint8Array | null = null
  /** Leaf bucket: `count` sorted ids packed from offset 0; capacity may exceed them. */
  ids: Uint8Array | null
  children: Array<TrieNode | null> | null = null

  constructor (ids: Uint8Array, count: number) {
    this.ids = ids
    this.count = count
  }
}

/** Where a prefix lands: an actual node, or ids [start, end) inside a leaf's bucket. */
interface Located { node: TrieNode | null, start: number, end: number, exact: boolean }

function checkId (id: unknown): asserts id is Uint8Array {
  if (!(id instanceof Uint8Array) || id.length !== ID_BYTES) {
    throw new MerkleError('ERR_BAD_ID', `an id must be a Uint8Array of ${ID_BYTES} bytes`)
  }
}

function checkPrefix (prefix: unknown): asserts prefix is NibblePath {
  if (!(prefix instanceof Uint8Array) || prefix.length > MAX_PREFIX_NIBBLES) {
    throw new MerkleError('ERR_BAD_PREFIX', `a prefix must be a Uint8Array of at most ${MAX_PREFIX_NIBBLES} nibbles`)
  }
  for (let i = 0; i < prefix.length; i++) {
    if ((prefix[i] as number) > 15) throw new MerkleError('ERR_BAD_PREFIX', 'a prefix holds nibbles 0..15')
  }
}

/** Compare the id packed at index i of `buf` with `id`, starting at byte `from` (earlier bytes equal). */
function compareAt (buf: Uint8Array, i: number, id: Uint8Array, from: number): number {
  const base = i * ID_BYTES
  for (let k = from; k < ID_BYTES; k++) {
    const d = (buf[base + k] as number) - (id[k] as number)
    if (d !== 0) return d
  }
  return 0
}

/**
 * A grow-only set of 32-byte ids with an order-independent Merkle root and range digests.
 *
 * @example
 * const set = new MerkleSet()
 * set.add(id)           // true; false the second time
 * set.rootHex()         // same on every replica holding the same ids
 */
export class MerkleSet {
  #root = new TrieNode(new Uint8Array(0), 0)

  /** Build a set from ids (duplicates allowed). @example MerkleSet.from([a, b]).size === 2 */
  static from (ids: Iterable<Uint8Array>): MerkleSet {
    const set = new MerkleSet()
    for (const id of ids) set.add(id)
    return set
  }

  /** Number of distinct ids. @example new MerkleSet().size === 0 */
  get size (): number { return this.#root.count }

  /** Whether the id is in the set. Throws ERR_BAD_ID unless it is 32 bytes. @example set.has(id) */
  has (id: Uint8Array): boolean {
    checkId(id)
    let node = this.#root
    let depth = 0
    while (node.children !== null) {
      const child = node.children[nibbleAt(id, 0, depth)]
      if (child == null) return false
      node = child
      depth++
    }
    return this.#search(node, id, depth) >= 0
  }

  /**
   * Add an id; false if it was already there. Marks the path dirty; no digest is computed here.
   * @example set.add(id) === true
   */
  add (id: Uint8Array): boolean {
    checkId(id)
    if (this.has(id)) return false
    let node = this.#root
    let depth = 0
    while (node.children !== null) {
      node.count++
      node.hash = null
      const c = nibbleAt(id, 0, depth)
      let child = node.children[c]
      if (child == null) {
        child = new TrieNode(new Uint8Array(2 * ID_BYTES), 0)
        node.children[c] = child
      }
      node = child
      depth++
    }
    this.#insertInLeaf(node, id, depth)
    if (node.count > LEAF_MAX) this.#split(node, depth)
    return true
  }

  /** The 32-byte state root (a copy). @example new MerkleSet().root() equals EMPTY_DIGEST */
  root (): Uint8Array { return this.#digest(this.#root).slice() }

  /** The state root as lowercase hex. @example set.rootHex().length === 64 */
  rootHex (): string { return toHex(this.#digest(this.#root)) }

  /** How many ids start with the prefix. @example set.countOf(new Uint8Array([0xa])) */
  countOf (prefix: NibblePath): number {
    checkPrefix(prefix)
    const at = this.#locate(prefix)
    if (at.node === null) return 0
    return at.exact ? at.node.count : at.end - at.start
  }

  /**
   * The digest of the node at this prefix: a function of the ids under the prefix and its length
   * alone (EMPTY_DIGEST if none), the same on every replica; a leaf-sized range's digest equals the
   * root of a set of just its ids. Ranges inside a leaf bucket are hashed on demand.
   * @example set.digestOf(new Uint8Array(0)) // equals set.root()
   */
  digestOf (prefix: NibblePath): Uint8Array {
    checkPrefix(prefix)
    const at = this.#locate(prefix)
    if (at.node === null) return EMPTY_DIGEST
    if (at.exact) return this.#digest(at.node).slice()
    return leafDigest(at.node.ids as Uint8Array, at.start, at.end)
  }

  /**
   * Digest and count of each of the 16 children of a prefix shorter than 64 nibbles.
   * @example set.childrenOf(new Uint8Array(0)).counts.reduce((a, b) => a + b) === set.size
   */
  childrenOf (prefix: NibblePath): PrefixChildren {
    checkPrefix(prefix)
    if (prefix.length >= MAX_PREFIX_NIBBLES) throw new MerkleError('ERR_BAD_PREFIX', 'a full-length prefix has no children')
    const digests: Uint8Array[] = new Array<Uint8Array>(16).fill(EMPTY_DIGEST)
    const counts: number[] = new Array<number>(16).fill(0)
    const at = this.#locate(prefix)
    if (at.node === null) return { digests, counts }
    if (at.exact && at.node.children !== null) {
      for (let c = 0; c < 16; c++) {
        const child = at.node.children[c]
        if (child == null) continue
        digests[c] = this.#digest(child).slice()
        counts[c] = child.count
      }
      return { digests, counts }
    }
    // Inside a leaf: every child range holds at most LEAF_MAX ids, so its digest is a leaf digest.
    const ids = at.node.ids as Uint8Array
    const start = at.exact ? 0 : at.start
    const end = at.exact ? at.node.count : at.end
    let i = start
    while (i < end) {
      const c = nibbleAt(ids, i * ID_BYTES, prefix.length)
      let j = i + 1
      while (j < end && nibbleAt(ids, j * ID_BYTES, prefix.length) === c) j++
      digests[c] = leafDigest(ids, i, j)
      counts[c] = j - i
      i = j
    }
    return { digests, counts }
  }

  /** The ids that start with the prefix, ascending, packed 32 bytes each (a copy). @example set.packedIdsUnder(p) */
  packedIdsUnder (prefix: NibblePath): Uint8Array {
    checkPrefix(prefix)
    const at = this.#locate(prefix)
    if (at.node === null) return new Uint8Array(0)
    if (!at.exact) return (at.node.ids as Uint8Array).slice(at.start * ID_BYTES, at.end * ID_BYTES)
    const out = new Uint8Array(at.node.count * ID_BYTES)
    let offset = 0
    const collect = (node: TrieNode): void => {
      if (node.ids !== null) {
        out.set(node.ids.subarray(0, node.count * ID_BYTES), offset)
        offset += node.count * ID_BYTES
      } else for (const child of node.children as Array<TrieNode | null>) if (child != null) collect(child)
    }
    collect(at.node)
    return out
  }

  /** The ids that start with the prefix, ascending, one copy each. @example set.idsUnder(new Uint8Array(0)) */
  idsUnder (prefix: NibblePath): Uint8Array[] {
    const packed = this.packedIdsUnder(prefix)
    const out: Uint8Array[] = []
    for (let i = 0; i < packed.length; i += ID_BYTES) out.push(packed.slice(i, i + ID_BYTES))
    return out
  }

  /** Every id, ascending (copies). @example for (const id of set.ids()) send(id) */
  * ids (): Generator<Uint8Array> {
    const stack: TrieNode[] = [this.#root]
    while (stack.length > 0) {
      const node = stack.pop() as TrieNode
      if (node.ids !== null) {
        for (let i = 0; i < node.count; i++) yield node.ids.slice(i * ID_BYTES, (i + 1) * ID_BYTES)
      } else {
        const children = node.children as Array<TrieNode | null>
        for (let c = 15; c >= 0; c--) { const child = children[c]; if (child != null) stack.push(child) }
      }
    }
  }

  /** Index of the id in a leaf bucket, or -(insertion point) - 1. */
  #search (leaf: TrieNode, id: Uint8Array, depth: number): number {
    const ids = leaf.ids as Uint8Array
    const from = depth >> 1 // ids in this leaf share the first `depth` nibbles with `id`
    let lo = 0
    let hi = leaf.count
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const d = compareAt(ids, mid, id, from)
      if (d === 0) return mid
      if (d < 0) lo = mid + 1
      else hi = mid
    }
    return -lo - 1
  }

  #insertInLeaf (leaf: TrieNode, id: Uint8Array, depth: number): void {
    const at = -this.#search(leaf, id, depth) - 1
    let ids = leaf.ids as Uint8Array
    const used = leaf.count * ID_BYTES
    if (used + ID_BYTES > ids.length) {
      // Grow by a quarter (at least 2 ids): little slack per leaf, amortised O(1) copies.
      const capacity = Math.min(LEAF_MAX + 1, leaf.count + Math.max(2, leaf.count >> 2))
      const grown = new Uint8Array(capacity * ID_BYTES)
      grown.set(ids.subarray(0, used))
      ids = grown
      leaf.ids = grown
    }
    ids.copyWithin((at + 1) * ID_BYTES, at * ID_BYTES, used)
    ids.set(id, at * ID_BYTES)
    leaf.count++
    leaf.hash = null
  }

  /** Turn an over-full leaf into an inner node; sorted ids make each child one contiguous run. */
  #split (leaf: TrieNode, depth: number): void {
    const ids = leaf.ids as Uint8Array
    const children: Array<TrieNode | null> = new Array<TrieNode | null>(16).fill(null)
    let i = 0
    while (i < leaf.count) {
      const c = nibbleAt(ids, i * ID_BYTES, depth)
      let j = i + 1
      while (j < leaf.count && nibbleAt(ids, j * ID_BYTES, depth) === c) j++
      const child = new TrieNode(ids.slice(i * ID_BYTES, j * ID_BYTES), j - i)
      children[c] = child
      // Ids sharing `depth + 1` nibbles can still overflow (ground prefixes); distinct 32-byte ids
      // always separate by depth 64, so this recursion ends.
      if (child.count > LEAF_MAX) this.#split(child, depth + 1)
      i = j
    }
    leaf.ids = null
    leaf.children = children
    leaf.hash = null
  }

  #digest (node: TrieNode): Uint8Array {
    if (node.hash !== null) return node.hash
    if (node.ids !== null) {
      node.hash = leafDigest(node.ids, 0, node.count)
      return node.hash
    }
    const scratch = new Uint8Array(3 + 16 * 32)
    let bitmap = 0
    let offset = 3
    const children = node.children as Array<TrieNode | null>
    for (let c = 0; c < 16; c++) {
      const child = children[c]
      if (child == null) continue
      bitmap |= 1 << c
      scratch.set(this.#digest(child), offset)
      offset += 32
    }
    scratch[0] = 1
    scratch[1] = bitmap >> 8
    scratch[2] = bitmap & 255
    node.hash = sha256(scratch.subarray(0, offset))
    return node.hash
  }

  #locate (prefix: NibblePath): Located {
    let node = this.#root
    let depth = 0
    while (depth < prefix.length && node.children !== null) {
      const child = node.children[prefix[depth] as number]
      if (child == null) return { node: null, start: 0, end: 0, exact: false }
      node = child
      depth++
    }
    if (depth === prefix.length) return { node, start: 0, end: node.count, exact: true }
    // A leaf above the prefix: its matching ids are one contiguous run of the sorted bucket.
    const ids = node.ids as Uint8Array
    let start = 0
    while (start < node.count && !this.#matches(ids, start, prefix, depth)) start++
    let end = start
    while (end < node.count && this.#matches(ids, end, prefix, depth)) end++
    if (start === end) return { node: null, start: 0, end: 0, exact: false }
    return { node, start, end, exact: false }
  }

  #matches (ids: Uint8Array, i: number, prefix: NibblePath, from: number): boolean {
    for (let d = from; d < prefix.length; d++) {
      if (nibbleAt(ids, i * ID_BYTES, d) !== prefix[d]) return false
    }
    return true
  }
}
