import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import r50k from 'js-tiktoken/ranks/r50k_base';
import { describe, expect, it } from 'vitest';
import { withField } from './field-path.js';
import { fromHuggingFaceJson, toHuggingFaceJson } from './hf.js';
import {
  bertBase,
  type HfLoadProbe,
  hfBase,
  hfExpected,
  hfLoadExpected,
  hfVariant,
} from './hf-fixtures.js';
import { mixedCorpus, ranksOf } from './test-corpus.js';
import { fromTiktoken } from './tiktoken-file.js';
import { Tokenizer } from './tokenizer.js';
import { trainBpe } from './train.js';
import { WordPieceTokenizer } from './wordpiece.js';

const corpus = mixedCorpus();
const shakespeare = corpus[0]!;
const flags = { single_word: false, lstrip: false, rstrip: false, normalized: false };

/**
 * A GPT-2 tokenizer.json written from r50k ranks the way Hugging Face's TikToken converter does
 * (independently of toHuggingFaceJson), checked against js-tiktoken's GPT-2 ids.
 */
function gpt2TokenizerJson(): string {
  const ranks = ranksOf(r50k);
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const map: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) map[b] = String.fromCharCode(bs.includes(b) ? b : 256 + n++);
  const visible = (s: string) => Array.from(s, (c) => map[c.charCodeAt(0)]).join('');
  const vocab: Record<string, number> = {};
  for (const [bytes, id] of ranks) vocab[visible(bytes)] = id;
  vocab['<|endoftext|>'] = 50256;
  const merges: [number, string][] = [];
  for (const [bytes, rank] of ranks) {
    for (let i = 1; i < bytes.length; i++) {
      const a = ranks.get(bytes.slice(0, i));
      const b = ranks.get(bytes.slice(i));
      if (a !== undefined && b !== undefined && a < rank && b < rank)
        merges.push([rank * 1e6 + a, `${visible(bytes.slice(0, i))} ${visible(bytes.slice(i))}`]);
    }
  }
  merges.sort((x, y) => x[0] - y[0]);
  return JSON.stringify({
    version: '1.0',
    added_tokens: [{ id: 50256, content: '<|endoftext|>', ...flags, special: true }],
    normalizer: null,
    pre_tokenizer: {
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true },
    model: { type: 'BPE', vocab, merges: merges.map(([, m]) => m) },
  });
}

describe('fromHuggingFaceJson / toHuggingFaceJson', () => {
  it('a GPT-2 tokenizer.json encodes like js-tiktoken r50k', () => {
    const tok = fromHuggingFaceJson(gpt2TokenizerJson()) as Tokenizer;
    const theirs = new Tiktoken(r50k);
    for (const text of corpus.slice(0, 25)) expect(tok.encode(text)).toEqual(theirs.encode(text));
  });

  it('save → load reproduces the encoding (tiktoken ranks and trained vocabularies), with a template', () => {
    const trained = trainBpe([shakespeare], {
      vocabSize: 600,
      specialTokens: ['<|bos|>', '<|eos|>'],
    });
    for (const tok of [fromTiktoken(ranksOf(cl100k), 'cl100k_base'), trained]) {
      const again = fromHuggingFaceJson(toHuggingFaceJson(tok)) as Tokenizer;
      for (const text of corpus.slice(0, 12)) expect(again.encode(text)).toEqual(tok.encode(text));
    }
    const withTemplate = new Tokenizer({
      ...trained.config,
      template: { before: ['<|bos|>'], after: ['<|eos|>'] },
    });
    const json = JSON.parse(toHuggingFaceJson(withTemplate));
    expect(json.post_processor.type).toBe('TemplateProcessing');
    const loaded = fromHuggingFaceJson(JSON.stringify(json)) as Tokenizer;
    const ids = loaded.encode('hello', { addSpecialTokens: true });
    expect(ids[0]).toBe(trained.specialId('<|bos|>'));
    expect(ids.at(-1)).toBe(trained.specialId('<|eos|>'));
  });

  it('save → load keeps added-token flags, non-special tokens and Split behaviours', () => {
    for (const variant of hfExpected.encodings) {
      const tok = fromHuggingFaceJson(hfVariant(variant.patch)) as Tokenizer;
      const again = fromHuggingFaceJson(toHuggingFaceJson(tok)) as Tokenizer;
      for (const { text, ids } of variant.cases)
        expect(again.encode(text, { allowedSpecial: 'all' })).toEqual(ids);
    }
  });

  it('a tiktoken pattern that Oniguruma would read otherwise is not written', () => {
    const tok = new Tokenizer({ encoder: new Map([['a', 0]]), pattern: '\\w+|$' });
    expect(() => toHuggingFaceJson(tok)).toThrow(
      'toHuggingFaceJson: the pattern "\\\\w+|$" means other text under Oniguruma',
    );
  });
});

/**
 * Where Tessera refuses a file Hugging Face loads, and why: the demands (an empty added
 * token, one id for two tokens), components a byte-level BPE or this WordPiece does not have,
 * and templates Hugging Face loads but fails on or that this package cannot express.
 */
const refusedByTessera: Record<string, RegExp> = {
  'bpe added_tokens[0].content ""': /must not be empty \(Hugging Face leaves such an entry out\)/,
  'bpe model.vocab["zz"] 5': /model\.vocab\["zz"\] is id 5, which "ą" has too/,
  'bpe normalizer {"type":"NFKC"}': /normalizer\.type "NFKC" is not supported/,
  'bpe pre_tokenizer null': /pre_tokenizer is missing: only byte-level BPE/,
  'bpe pre_tokenizer.pretokenizers []': /pre_tokenizer must end with a ByteLevel step/,
  'bpe model.dropout 0.1': /BPE dropout is not supported/,
  'bpe model.byte_fallback true': /byte fallback \(SentencePiece-style\) is not supported/,
  'bpe model.end_of_word_suffix "</w>"': /subword prefixes and suffixes are not byte-level/,
  'bert pre_tokenizer null': /a WordPiece needs BertPreTokenizer here/,
  'bert post_processor.single []': /must hold the sequence "A" once \(not supported otherwise\)/,
  'bert post_processor.single[0].SpecialToken.id "NOPE"':
    /special_tokens\["NOPE"\] is missing: the template names it \(Hugging Face loads such a file and fails when it encodes\)/,
  'bert post_processor.single [{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}},{"Sequence":{"id":"A","type_id":0}}]':
    /must hold the sequence "A" once/,
  'bert post_processor.special_tokens["[CLS]"].ids [2,3]': /a template token must be that one id/,
};

describe('fromHuggingFaceJson loads what Hugging Face loads and refuses, naming the field, what it refuses (fixtures/make-hf-fixtures.ts)', () => {
  const name = (p: HfLoadProbe) =>
    `${p.base} ${p.path} ${p.remove ? '(removed)' : JSON.stringify(p.value)}`;
  it.each(hfLoadExpected.probes.map((p) => [name(p), p] as const))('%s', (key, p) => {
    const json = withField(p.base === 'bpe' ? hfBase : bertBase, p.path, p.value);
    const load = () => fromHuggingFaceJson(JSON.stringify(json));
    if (!p.accepted) expect(load).toThrow(`tokenizer.json: ${p.path}`);
    else if (key in refusedByTessera) expect(load).toThrow(refusedByTessera[key]!);
    else expect(load).not.toThrow();
  });

  it('every listed refusal is a file Hugging Face loads', () => {
    const accepted = new Set(hfLoadExpected.probes.filter((p) => p.accepted).map(name));
    for (const key of Object.keys(refusedByTessera))
      expect([key, accepted.has(key)]).toEqual([key, true]);
  });
});

describe('fromHuggingFaceJson reads the file and picks the model', () => {
  const load = (patch: Record<string, unknown>) => () => fromHuggingFaceJson(hfVariant(patch));
  const model = hfBase.model as Record<string, unknown>;

  it('not JSON, no model, or a model of another type', () => {
    expect(() => fromHuggingFaceJson('{not json')).toThrow(/tokenizer\.json: not valid JSON/);
    expect(() => fromHuggingFaceJson('[]')).toThrow(
      'tokenizer.json: the file must be an object, got an array',
    );
    expect(load({ model: undefined })).toThrow('tokenizer.json: model is missing');
    expect(load({ model: { ...model, type: 'Unigram' } })).toThrow(
      'tokenizer.json: model.type "Unigram" is not supported',
    );
  });

  it('a model without a type is a BPE when it has merges, else a WordPiece (as Hugging Face tries them)', () => {
    const { type: _, ...untyped } = model;
    expect(fromHuggingFaceJson(hfVariant({ model: untyped }))).toBeInstanceOf(Tokenizer);
    const { type: __, ...bert } = bertBase.model as Record<string, unknown>;
    expect(fromHuggingFaceJson(JSON.stringify({ ...bertBase, model: bert }))).toBeInstanceOf(
      WordPieceTokenizer,
    );
  });
});
