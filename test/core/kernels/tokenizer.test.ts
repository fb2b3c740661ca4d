/**
 * The WordPiece tokenizer against google-research/bert's tokenization_test.py cases, plus framing,
 * truncation, padding and vocabulary checks.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { check } from '../../helpers/property.ts'
import { kernelError } from './helpers.ts'
import { WordPieceTokenizer, parseVocab } from '../../../src/core/kernels/tokenizer.ts'

// tokenization_test.py test_full_tokenizer / test_wordpiece_tokenizer's vocabulary, with [PAD].
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'want', '##want', '##ed', 'wa', 'un', 'runn', '##ing', ',', 'low', 'lowest']
const tok = new WordPieceTokenizer(parseVocab(VOCAB.join('\n') + '\n'))

describe('kernels/tokenizer', () => {
  describe('basic pass (BERT BasicTokenizer, uncased)', () => {
    it('lowercases and splits on whitespace and punctuation', () => {
      assert.deepEqual(tok.basicTokens(' \tHeLLo!how  \n Are yoU?  '), ['hello', '!', 'how', 'are', 'you', '?'])
    })
    it('strips accents', () => {
      assert.deepEqual(tok.basicTokens('H\u00E9llo'), ['hello'])
    })
    it('spaces out CJK ideographs', () => {
      assert.deepEqual(tok.basicTokens('ah\u535A\u63A8zz'), ['ah', '\u535A', '\u63A8', 'zz'])
    })
    it('drops control characters and counts ASCII symbols as punctuation', () => {
      assert.deepEqual(tok.basicTokens('a\u0000b\u0007c $5^x`'), ['abc', '$', '5', '^', 'x', '`'])
    })
    it('keeps case when told to', () => {
      const cased = new WordPieceTokenizer(parseVocab(VOCAB.join('\n')), { lowercase: false })
      assert.deepEqual(cased.basicTokens('HeLLo'), ['HeLLo'])
    })
  })

  describe('WordPiece', () => {
    it('splits greedily, longest match first', () => {
      assert.deepEqual(tok.tokenize('unwanted running'), ['un', '##want', '##ed', 'runn', '##ing'])
      assert.deepEqual(tok.tokenize('UNwant\u00E9d,running'), ['un', '##want', '##ed', ',', 'runn', '##ing'])
    })
    it('turns a word with an unknown piece into one [UNK]', () => {
      assert.deepEqual(tok.tokenize('unwantedX running'), ['[UNK]', 'runn', '##ing'])
      assert.deepEqual(tok.tokenize(''), [])
    })
    it('turns a word over 100 characters into [UNK]', () => {
      assert.deepEqual(tok.tokenize('want'.repeat(26)), ['[UNK]'])
    })
  })

  describe('encode() and encodeBatch()', () => {
    it('frames with [CLS] … [SEP] and truncates to maxTokens', () => {
      assert.deepEqual(tok.encode('unwanted', 16), [2, 8, 5, 6, 3])
      assert.deepEqual(tok.encode('unwanted', 3), [2, 8, 3])
      assert.deepEqual(tok.encode('', 2), [2, 3])
      assert.throws(() => tok.encode('a', 1), kernelError('ERR_KERNEL_BAD_PARAMETER'))
    })
    it('pads a batch to its longest row with a zero attention mask (property)', () => {
      check(fc.property(fc.array(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 2, max: 12 }), (texts, max) => {
        const b = tok.encodeBatch(texts, max)
        assert.equal(b.batch, texts.length)
        assert.equal(b.inputIds.length, b.batch * b.length)
        texts.forEach((t, r) => {
          const ids = tok.encode(t, max)
          assert.ok(ids.length <= max)
          for (let i = 0; i < b.length; i++) {
            assert.equal(b.inputIds[r * b.length + i], BigInt(ids[i] ?? 0))
            assert.equal(b.attentionMask[r * b.length + i], i < ids.length ? 1n : 0n)
            assert.equal(b.tokenTypeIds[r * b.length + i], 0n)
          }
        })
      }))
    })
  })

  describe('parseVocab()', () => {
    it('numbers tokens by line and ignores one final newline', () => {
      const v = parseVocab('[PAD]\r\n[UNK]\n[CLS]\n[SEP]\nx\n')
      assert.equal(v.ids.get('x'), 4)
      assert.equal(v.tokens.length, 5)
    })
    it('refuses duplicates, empty lines and missing specials', () => {
      assert.throws(() => parseVocab('[PAD]\n[UNK]\n[CLS]\n[SEP]\nx\nx\n'), kernelError('ERR_KERNEL_MODEL_LOAD_FAILED'))
      assert.throws(() => parseVocab('[PAD]\n\n[UNK]\n[CLS]\n[SEP]\n'), kernelError('ERR_KERNEL_MODEL_LOAD_FAILED'))
      assert.throws(() => parseVocab('[PAD]\n[UNK]\n[CLS]\n'), kernelError('ERR_KERNEL_MODEL_LOAD_FAILED'))
      assert.throws(() => parseVocab(''), kernelError('ERR_KERNEL_MODEL_LOAD_FAILED'))
    })
  })
})
