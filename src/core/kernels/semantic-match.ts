/**
 * The `semantic_match` kernel: rank candidate descriptions (agents, services, documents) for one or
 * more task texts by the cosine similarity of their embeddings, and return the top k of each.
 *
 * Payload (canonical CBOR map, exactly these keys):
 *   `{ model: text, tasks: [text, ...], candidates: [text, ...], k: uint }`
 * Output:
 *   `{ rankings: [[{ index: uint, score: int }, ...], ...] }`: one ranking per task text, in
 *   payload order; each holds `k` candidates by descending score, ties by ascending index. `score`
 *   is the cosine in integer parts per million (`round(cos × 10^6)`, in -10^6..10^6), because the
 *   canonical codec carries no floats.
 *
 * Model: the embedder id the payload names; a node without it refuses the task in `run()` with
 * `ERR_KERNEL_BAD_PARAMETER` (`size()` does not ask, so a submitter can price it).
 *
 * Size: the number of task texts (price unit 'query', economy/prices.ts: one query = one task text
 * ranked against the payload's candidates).
 *
 * Limits ({@link SEMANTIC_MATCH_LIMITS}): 1 to 64 task texts, 1 to 256 candidates, texts at most
 * 2 KiB of UTF-8 (descriptions, not documents), 1 <= k <= candidates. The price is per query, not
 * per candidate, so the candidate count is capped to keep the work one query buys bounded (up to
 * 64 + 256 embeddings per task).
 *
 * Agreement ({@link SEMANTIC_MATCH_AGREE_PPM}): the same number of rankings of the same length,
 * scores at each rank within 100 ppm (1e-4), and every candidate present in both rankings of a
 * task scored within 100 ppm in both. A candidate present in only one may differ only by a near
 * tie at the cut: its score is within 100 ppm of the other ranking's last score. So two honest ONNX
 * workers that order two nearly equal candidates differently still agree, while a worker that
 * returns a different ranking does not. With the default embedder honest outputs are identical.
 */
import { encodeCanonical } from '../codec/index.ts'
import { KernelError } from './errors.ts'
import type { Kernel, KernelRunOptions } from './types.ts'
import { DEFAULT_EMBEDDERS, cosine, embedChecked, embedderFor } from './embedder.ts'
import type { EmbedderRegistry } from './embedder.ts'
import { checkModelId, checkTexts } from './embedding.ts'
import { PayloadFields } from './fields.ts'

/** Limits of one `semantic_match` task. @example SEMANTIC_MATCH_LIMITS.maxCandidates === 256 */
export const SEMANTIC_MATCH_LIMITS = Object.freeze({
  maxTasks: 64,
  maxCandidates: 256,
  maxTextBytes: 2048,
  maxPayloadBytes: 1 << 20
})

/** Score tolerance of {@link semanticMatchKernel}'s `agree`, in ppm of cosine (1e-4). @example SEMANTIC_MATCH_AGREE_PPM === 100 */
export const SEMANTIC_MATCH_AGREE_PPM = 100

/** Scores are cosines times this, rounded. @example SCORE_SCALE === 1_000_000 */
export const SCORE_SCALE = 1_000_000

/** What a client asks `semantic_match`. @example const input: SemanticMatchInput = { model: DEFAULT_EMBEDDER.id, tasks: ['translate'], candidates: ['a translator'], k: 1 } */
export interface SemanticMatchInput {
  readonly model: string
  readonly tasks: readonly string[]
  readonly candidates: readonly string[]
  readonly k: number
}

/** One ranked candidate: its index in `candidates` and its cosine in ppm. @example const m: Match = { index: 0, score: 912345 } */
export interface Match {
  readonly index: number
  readonly score: number
}

/** What `semantic_match` returns: one ranking per task text. @example decodeSemanticMatchOutput(out).rankings[0][0].index */
export interface SemanticMatchOutput {
  readonly rankings: Match[][]
}

const KEYS = ['candidates', 'k', 'model', 'tasks'] as const

function checkInput (model: unknown, tasks: unknown, candidates: unknown, k: unknown): SemanticMatchInput {
  const L = SEMANTIC_MATCH_LIMITS
  const checkedModel = checkModelId(model, 'semantic_match')
  const checkedTasks = checkTexts(tasks, { maxCount: L.maxTasks, maxBytes: L.maxTextBytes }, 'semantic_match tasks')
  const checkedCandidates = checkTexts(candidates, { maxCount: L.maxCandidates, maxBytes: L.maxTextBytes }, 'semantic_match candidates')
  if (typeof k !== 'number' || !Number.isSafeInteger(k)) throw new KernelError('ERR_KERNEL_BAD_PAYLOAD', 'semantic_match: k is not an integer')
  if (k < 1 || k > checkedCandidates.length) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `semantic_match: k = ${k} is not in 1..${checkedCandidates.length} (the number of candidates)`)
  return { model: checkedModel, tasks: checkedTasks, candidates: checkedCandidates, k }
}

/**
 * Build a `semantic_match` payload, with the kernel's checks.
 *
 * @example
 * encodeSemanticMatchPayload({ model: DEFAULT_EMBEDDER.id, tasks: ['translate to French'], candidates: ['French translator', 'image tagger'], k: 1 })
 */
export function encodeSemanticMatchPayload (input: SemanticMatchInput): Uint8Array {
  const c = checkInput(input?.model, input?.tasks, input?.candidates, input?.k)
  const bytes = encodeCanonical({ model: c.model, tasks: [...c.tasks], candidates: [...c.candidates], k: c.k })
  if (bytes.length > SEMANTIC_MATCH_LIMITS.maxPayloadBytes) throw new KernelError('ERR_KERNEL_PAYLOAD_TOO_LARGE', `semantic_match payload would be ${bytes.length} bytes`)
  return bytes
}

/**
 * Decode and check a `semantic_match` payload.
 *
 * @example decodeSemanticMatchPayload(payload).k
 */
export function decodeSemanticMatchPayload (payload: Uint8Array): SemanticMatchInput {
  const f = PayloadFields.decode(payload, { maxBytes: SEMANTIC_MATCH_LIMITS.maxPayloadBytes, what: 'semantic_match payload' }).only(KEYS)
  return checkInput(f.value('model'), f.value('tasks'), f.value('candidates'), f.value('k'))
}

/** Cosine → integer ppm, clamped to ±10^6. Math.round is exact, so this is deterministic. */
function toPpm (c: number): number {
  // `+ 0` turns -0 (a tiny negative cosine) into 0, the one integer CBOR can carry.
  const s = Math.round(c * SCORE_SCALE) + 0
  return s > SCORE_SCALE ? SCORE_SCALE : s < -SCORE_SCALE ? -SCORE_SCALE : s
}

/**
 * Rank candidate vectors for one query vector: the top `k` by score (ppm) descending, ties by
 * ascending index. A full sort of at most 256 candidates: simpler than a heap and as fast here.
 *
 * @example rankByCosine(q, [v0, v1, v2], 2) // [{ index: 1, score: 990000 }, { index: 0, score: ... }]
 */
export function rankByCosine (query: Float32Array, candidates: readonly Float32Array[], k: number): Match[] {
  const scored = candidates.map((v, index) => ({ index, score: toPpm(cosine(query, v)) }))
  scored.sort((a, b) => b.score - a.score || a.index - b.index)
  return scored.slice(0, k)
}

/**
 * Encode a `semantic_match` output.
 *
 * @example encodeSemanticMatchOutput({ rankings: [[{ index: 0, score: 1000000 }]] })
 */
export function encodeSemanticMatchOutput (output: SemanticMatchOutput): Uint8Array {
  return encodeCanonical({ rankings: output.rankings.map(r => r.map(m => ({ index: m.index, score: m.score }))) })
}

const MAX_OUTPUT_BYTES = SEMANTIC_MATCH_LIMITS.maxTasks * SEMANTIC_MATCH_LIMITS.maxCandidates * 32 + 64

/**
 * Decode a `semantic_match` output, checking its shape: every ranking non-empty and of one
 * length, indices distinct within a ranking and below {@link SEMANTIC_MATCH_LIMITS}.maxCandidates,
 * scores in ±10^6 and in the kernel's order. Throws `KernelError` (`ERR_KERNEL_BAD_PAYLOAD`).
 *
 * @example const { rankings } = decodeSemanticMatchOutput(await SEMANTIC_MATCH_KERNEL.run(payload))
 */
export function decodeSemanticMatchOutput (bytes: Uint8Array): SemanticMatchOutput {
  // Every fault of an output is a malformed output, an out-of-range number included.
  const options = { rangeCode: 'ERR_KERNEL_BAD_PAYLOAD' } as const
  const f = PayloadFields.decode(bytes, { maxBytes: MAX_OUTPUT_BYTES, what: 'semantic_match output', ...options }).only(['rankings'])
  const raw = f.value('rankings')
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > SEMANTIC_MATCH_LIMITS.maxTasks) throw f.error('rankings is not an array of 1..64 rankings')
  let length = -1
  const rankings = raw.map((ranking, t) => {
    if (!Array.isArray(ranking) || ranking.length === 0) throw f.error(`ranking ${t} is not a non-empty array`)
    if (length === -1) length = ranking.length
    if (ranking.length !== length) throw f.error(`ranking ${t} has ${ranking.length} matches, not ${length}`)
    const seen = new Set<number>()
    let prev: Match | undefined
    return ranking.map((item, r): Match => {
      const m = PayloadFields.of(item, f.what, `rankings[${t}][${r}]`, options).only(['index', 'score'])
      const index = m.int('index', { min: 0, max: SEMANTIC_MATCH_LIMITS.maxCandidates - 1 })
      const score = m.int('score', { min: -SCORE_SCALE, max: SCORE_SCALE })
      if (seen.has(index)) throw f.error(`ranking ${t}: index ${index} appears twice`)
      seen.add(index)
      if (prev !== undefined && (score > prev.score || (score === prev.score && index < prev.index))) throw f.error(`ranking ${t} is not in descending score order`)
      prev = { index, score }
      return prev
    })
  })
  return { rankings }
}

/** Two rankings of one task agree (see the module doc). */
function rankingsAgree (a: readonly Match[], b: readonly Match[]): boolean {
  const tol = SEMANTIC_MATCH_AGREE_PPM
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (Math.abs((a[i] as Match).score - (b[i] as Match).score) > tol) return false
  const inB = new Map(b.map(m => [m.index, m.score]))
  const inA = new Map(a.map(m => [m.index, m.score]))
  const lastA = (a[a.length - 1] as Match).score
  const lastB = (b[b.length - 1] as Match).score
  for (const m of a) {
    const other = inB.get(m.index)
    if (other === undefined ? Math.abs(m.score - lastB) > tol : Math.abs(m.score - other) > tol) return false
  }
  for (const m of b) {
    if (!inA.has(m.index) && Math.abs(m.score - lastA) > tol) return false
  }
  return true
}

/**
 * The `semantic_match` kernel over a registry of embedders.
 *
 * @example
 * const kernel = semanticMatchKernel(embedderRegistry([DEFAULT_EMBEDDER]))
 * const { rankings } = decodeSemanticMatchOutput(await kernel.run(payload))
 */
export function semanticMatchKernel (embedders: EmbedderRegistry): Kernel {
  return {
    type: 'semantic_match',
    // As for `embedding`: the model is checked by run(), not size() (a submitter need not hold it).
    size (payload: Uint8Array): number {
      return decodeSemanticMatchPayload(payload).tasks.length
    },
    async run (payload: Uint8Array, options: KernelRunOptions = {}): Promise<Uint8Array> {
      const input = decodeSemanticMatchPayload(payload)
      const embedder = embedderFor(embedders, input.model)
      const embedOptions = options.signal === undefined ? {} : { signal: options.signal }
      // One embed call for tasks and candidates together: one batch for an ONNX session.
      const vectors = await embedChecked(embedder, [...input.tasks, ...input.candidates], embedOptions)
      const queries = vectors.slice(0, input.tasks.length)
      const candidates = vectors.slice(input.tasks.length)
      return encodeSemanticMatchOutput({ rankings: queries.map(q => rankByCosine(q, candidates, input.k)) })
    },
    agree (a: Uint8Array, b: Uint8Array): boolean {
      try {
        const x = decodeSemanticMatchOutput(a).rankings
        const y = decodeSemanticMatchOutput(b).rankings
        return x.length === y.length && x.every((r, i) => rankingsAgree(r, y[i] as Match[]))
      } catch {
        return false
      }
    }
  }
}

/** The `semantic_match` kernel with only the default embedder. @example SEMANTIC_MATCH_KERNEL.type === 'semantic_match' */
export const SEMANTIC_MATCH_KERNEL: Kernel = semanticMatchKernel(DEFAULT_EMBEDDERS)
