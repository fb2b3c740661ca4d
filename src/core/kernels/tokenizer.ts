/**
 * BERT's WordPiece tokenizer, as the ONNX sentence-embedding models expect their input: a "basic"
 * pass (clean control characters, space out CJK ideographs, lowercase, strip accents, split on
 * whitespace and punctuation) then greedy longest-match-first WordPiece with `##` continuation
 * pieces, framed by `[CLS]` … `[SEP]` and padded with `[PAD]`.
 *
 * It follows the reference implementation (google-research/bert tokenization.py: BasicTokenizer,
 * WordpieceTokenizer; Hugging Face BertTokenizer with `do_lower_case=True`), so a model package's
 * own `vocab.txt` gives the same ids here as in Python. Pure: it runs in the core, in Node and in
 * browsers; the ONNX adapter feeds its output to onnxruntime.
 */
import { KernelError } from './errors.ts'

/** The special tokens every vocabulary must hold. @example WORDPIECE_SPECIAL_TOKENS[0] === '[PAD]' */
export const WORDPIECE_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'] as const

/** Words longer than this become `[UNK]` (BERT's `max_input_chars_per_word`). @example WORDPIECE_MAX_CHARS_PER_WORD === 100 */
export const WORDPIECE_MAX_CHARS_PER_WORD = 100

/**
 * A WordPiece vocabulary: token → id, id = line number (0-based) of `vocab.txt`.
 *
 * @example
 * const vocab = parseVocab('[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n')
 * vocab.ids.get('hello') // 4
 */
export interface WordPieceVocab {
  readonly tokens: readonly string[]
  readonly ids: ReadonlyMap<string, number>
}

/**
 * Parse `vocab.txt` (one token per line, as BERT ships it). Refuses an empty vocabulary, a duplicate
 * token or a missing special token with `ERR_KERNEL_MODEL_LOAD_FAILED`: a model package with such a
 * vocabulary would silently produce wrong ids.
 *
 * @example
 * parseVocab('[PAD]\n[UNK]\n[CLS]\n[SEP]\n').tokens.length // 4
 */
export function parseVocab (text: string): WordPieceVocab {
  const lines = text.split(/\r?\n/)
  // A final newline ends the last line; it does not add an empty token.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  const ids = new Map<string, number>()
  for (let i = 0; i < lines.length; i++) {
    const token = lines[i] as string
    if (token === '') throw new KernelError('ERR_KERNEL_MODEL_LOAD_FAILED', `vocab line ${i + 1} is empty`)
    if (ids.has(token)) throw new KernelError('ERR_KERNEL_MODEL_LOAD_FAILED', `vocab token '${token}' appears twice (line ${i + 1})`)
    ids.set(token, i)
  }
  for (const special of WORDPIECE_SPECIAL_TOKENS) {
    if (!ids.has(special)) throw new KernelError('ERR_KERNEL_MODEL_LOAD_FAILED', `vocab lacks the special token ${special}`)
  }
  return { tokens: lines, ids }
}

/** A padded batch, row-major `[batch × length]`, int64 as onnxruntime wants. @example batch.inputIds.length === batch.batch * batch.length */
export interface EncodedBatch {
  readonly batch: number
  readonly length: number
  readonly inputIds: BigInt64Array
  readonly attentionMask: BigInt64Array
  readonly tokenTypeIds: BigInt64Array
}

/** Options of {@link WordPieceTokenizer}. @example new WordPieceTokenizer(vocab, { lowercase: true }) */
export interface WordPieceOptions {
  /** Lowercase and strip accents (BERT "uncased" models). Default true. */
  readonly lowercase?: boolean
}

const CONTROL = /^\p{C}$/u
const SPACE = /^\p{Zs}$/u
const PUNCT = /^\p{P}$/u
const MARK = /\p{Mn}/gu

function isWhitespace (ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || SPACE.test(ch)
}

function isControl (ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false
  return CONTROL.test(ch)
}

// BERT counts all non-letter/number ASCII as punctuation ('$', '^', '`' are not Unicode P), plus
// every Unicode P character.
function isPunctuation (ch: string): boolean {
  const cp = ch.codePointAt(0) as number
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true
  return PUNCT.test(ch)
}

// The CJK Unified Ideographs blocks of tokenization.py `_is_chinese_char`.
function isCjk (cp: number): boolean {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
    (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
    (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F)
}

/**
 * BERT's WordPiece tokenizer over a parsed vocabulary.
 *
 * @example
 * const tok = new WordPieceTokenizer(parseVocab(vocabText))
 * tok.tokenize('Unaffable!')             // ['una', '##ff', '##able', '!'] with BERT's vocab
 * tok.encodeBatch(['hi', 'hello world'], 128).length // 4 or so: [CLS] … [SEP], padded
 */
export class WordPieceTokenizer {
  readonly vocab: WordPieceVocab
  readonly lowercase: boolean
  readonly #pad: number
  readonly #unk: number
  readonly #cls: number
  readonly #sep: number

  constructor (vocab: WordPieceVocab, options: WordPieceOptions = {}) {
    this.vocab = vocab
    this.lowercase = options.lowercase ?? true
    this.#pad = vocab.ids.get('[PAD]') as number
    this.#unk = vocab.ids.get('[UNK]') as number
    this.#cls = vocab.ids.get('[CLS]') as number
    this.#sep = vocab.ids.get('[SEP]') as number
  }

  /** The basic pass: words and punctuation marks, before WordPiece. @example tok.basicTokens("Héllo, world") // ['hello', ',', 'world'] */
  basicTokens (text: string): string[] {
    let cleaned = ''
    for (const ch of text) {
      const cp = ch.codePointAt(0) as number
      if (cp === 0 || cp === 0xFFFD || isControl(ch)) continue
      if (isWhitespace(ch)) cleaned += ' '
      else if (isCjk(cp)) cleaned += ` ${ch} `
      else cleaned += ch
    }
    const out: string[] = []
    for (let word of cleaned.split(' ')) {
      if (word === '') continue
      // BERT uncased: lowercase, then NFD and drop combining marks (`_run_strip_accents`).
      if (this.lowercase) word = word.toLowerCase().normalize('NFD').replace(MARK, '')
      let current = ''
      for (const ch of word) {
        if (isPunctuation(ch)) {
          if (current !== '') out.push(current)
          out.push(ch)
          current = ''
        } else {
          current += ch
        }
      }
      if (current !== '') out.push(current)
    }
    return out
  }

  /** Word pieces of a text (`##` marks a continuation). @example tok.tokenize('unaffable') // ['una', '##ff', '##able'] */
  tokenize (text: string): string[] {
    const out: string[] = []
    for (const word of this.basicTokens(text)) out.push(...this.#wordPieces(word))
    return out
  }

  // Greedy longest-match-first (tokenization.py WordpieceTokenizer.tokenize): a word with any
  // piece missing from the vocabulary becomes a single [UNK].
  #wordPieces (word: string): string[] {
    const chars = Array.from(word)
    if (chars.length > WORDPIECE_MAX_CHARS_PER_WORD) return ['[UNK]']
    const pieces: string[] = []
    let start = 0
    while (start < chars.length) {
      let end = chars.length
      let found: string | undefined
      while (start < end) {
        const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('')
        if (this.vocab.ids.has(piece)) { found = piece; break }
        end--
      }
      if (found === undefined) return ['[UNK]']
      pieces.push(found)
      start = end
    }
    return pieces
  }

  /**
   * Token ids of one text: `[CLS] pieces… [SEP]`, the pieces truncated so the whole fits
   * `maxTokens` (≥ 2).
   *
   * @example tok.encode('hello', 16) // [cls, id('hello'), sep]
   */
  encode (text: string, maxTokens: number): number[] {
    if (!Number.isSafeInteger(maxTokens) || maxTokens < 2) throw new KernelError('ERR_KERNEL_BAD_PARAMETER', `maxTokens must be an integer >= 2, got ${maxTokens}`)
    const ids = [this.#cls]
    for (const piece of this.tokenize(text)) {
      if (ids.length >= maxTokens - 1) break
      ids.push(this.vocab.ids.get(piece) ?? this.#unk)
    }
    ids.push(this.#sep)
    return ids
  }

  /**
   * Encode texts as one batch padded to its longest row: `input_ids`, `attention_mask` (1 for a
   * token, 0 for padding) and `token_type_ids` (all 0: one segment), as BERT-style ONNX models take.
   *
   * @example tok.encodeBatch(['a', 'b c'], 128).batch // 2
   */
  encodeBatch (texts: readonly string[], maxTokens: number): EncodedBatch {
    const rows = texts.map(t => this.encode(t, maxTokens))
    const length = rows.reduce((m, r) => Math.max(m, r.length), 0)
    const inputIds = new BigInt64Array(rows.length * length).fill(BigInt(this.#pad))
    const attentionMask = new BigInt64Array(rows.length * length)
    const tokenTypeIds = new BigInt64Array(rows.length * length)
    rows.forEach((row, r) => {
      for (let i = 0; i < row.length; i++) {
        inputIds[r * length + i] = BigInt(row[i] as number)
        attentionMask[r * length + i] = 1n
      }
    })
    return { batch: rows.length, length, inputIds, attentionMask, tokenTypeIds }
  }
}
