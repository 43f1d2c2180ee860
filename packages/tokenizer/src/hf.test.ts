import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import r50k from 'js-tiktoken/ranks/r50k_base';
import { describe, expect, it } from 'vitest';
import { fromHuggingFaceJson, toHuggingFaceJson } from './hf.js';
import { hfBase, hfExpected, hfVariant } from './hf-fixtures.js';
import { mixedCorpus, ranksOf } from './test-corpus.js';
import { fromTiktoken } from './tiktoken-file.js';
import { Tokenizer } from './tokenizer.js';
import { trainBpe } from './train.js';

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
    post_processor: { type: 'ByteLevel', trim_offsets: true },
    decoder: { type: 'ByteLevel' },
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

  it('a file without merges loads and encodes byte by byte', () => {
    const expected = hfExpected.encodings.find((e) => e.name === 'no merges (an empty list)')!;
    const model = { ...(hfBase.model as object), merges: undefined, ignore_merges: false };
    const tok = fromHuggingFaceJson(hfVariant({ model })) as Tokenizer;
    for (const { text, ids } of expected.cases)
      expect(tok.encode(text, { allowedSpecial: 'all' })).toEqual(ids);
  });
});

describe('fromHuggingFaceJson refuses malformed files, naming the field', () => {
  const base = hfBase as {
    model: Record<string, unknown> & { vocab: Record<string, number> };
    added_tokens: Record<string, unknown>[];
  };
  const load = (patch: Record<string, unknown>) => () => fromHuggingFaceJson(hfVariant(patch));
  const model = (more: Record<string, unknown>) => ({ model: { ...base.model, ...more } });
  const vocab = (more: Record<string, unknown>) =>
    model({ vocab: { ...base.model.vocab, ...more } });
  const mask = base.added_tokens[0]!;

  it('not JSON, or unsupported components', () => {
    expect(() => fromHuggingFaceJson('{not json')).toThrow(/tokenizer\.json: not valid JSON/);
    expect(load(model({ type: 'Unigram' }))).toThrow(/unsupported model type "Unigram"/);
    expect(load({ normalizer: { type: 'NFKC' } })).toThrow(/unsupported normalizer type "NFKC"/);
    expect(load({ pre_tokenizer: { type: 'Metaspace' } })).toThrow(
      /unsupported pre_tokenizer type "Metaspace"/,
    );
    expect(load({ decoder: { type: 'Fuse' } })).toThrow(/unsupported decoder type "Fuse"/);
    expect(load(model({ dropout: 0.1 }))).toThrow(
      'tokenizer.json: model.dropout is 0.1: BPE dropout is not supported',
    );
    expect(
      load({
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [{ type: 'Split', pattern: { Regex: 'x' }, behavior: 'Isolated' }],
        },
      }),
    ).toThrow(/pre_tokenizer must end with a ByteLevel step/);
  });

  it('vocab ids that are not non-negative integers, and duplicate ids', () => {
    expect(load(vocab({ a: -1 }))).toThrow(
      'tokenizer.json: model.vocab["a"] must be a non-negative integer, got number -1',
    );
    expect(load(vocab({ a: 1.5 }))).toThrow(/model\.vocab\["a"\] must be a non-negative integer/);
    expect(load(vocab({ a: '97' }))).toThrow(
      /model\.vocab\["a"\] must be a non-negative integer, got string "97"/,
    );
    expect(load(vocab({ a: 98 }))).toThrow(/model\.vocab\["[ab]"\] is id 98, which "[ab]" has too/);
  });

  it('added tokens without id, with empty content, or with flags of the wrong type', () => {
    const { id: _, ...noId } = mask;
    expect(load({ added_tokens: [noId] })).toThrow(
      'tokenizer.json: added_tokens[0].id must be a non-negative integer, got nothing',
    );
    expect(load({ added_tokens: [{ ...mask, content: '' }] })).toThrow(
      'tokenizer.json: added_tokens[0].content must not be empty',
    );
    expect(load({ added_tokens: [{ ...mask, lstrip: 'yes' }] })).toThrow(
      'tokenizer.json: added_tokens[0].lstrip must be a boolean, got string "yes"',
    );
    expect(load({ added_tokens: [mask, { ...mask, content: '<x>' }] })).toThrow(
      /added_tokens\[1\]\.id \d+ is also the id of "<mask>"/,
    );
    expect(load({ added_tokens: {} })).toThrow(
      'tokenizer.json: added_tokens must be an array, got an object',
    );
  });

  it('merges whose parts or result are not in the vocabulary, or that do not have two parts', () => {
    expect(load(model({ merges: ['a b c'] }))).toThrow(
      'tokenizer.json: model.merges[0] must be two tokens ("a b" or ["a", "b"]), got "a b c"',
    );
    expect(load(model({ merges: [['a', 'b', 'c']] }))).toThrow(
      /model\.merges\[0\] must be two tokens/,
    );
    expect(load(model({ merges: ['Z Q'] }))).toThrow(
      'tokenizer.json: model.merges[0] "Z Q" needs "ZQ", which is not in model.vocab',
    );
    expect(load(model({ merges: [['a', 7]] }))).toThrow(
      'tokenizer.json: model.merges[0][1] must be a string, got number 7',
    );
  });

  it('wrong JSON types elsewhere', () => {
    expect(load({ model: [] })).toThrow('tokenizer.json: model must be an object, got an array');
    expect(load(model({ vocab: null }))).toThrow(
      'tokenizer.json: model.vocab must be an object, got null',
    );
    expect(load(model({ merges: 'a b' }))).toThrow('tokenizer.json: model.merges must be an array');
    expect(load(model({ ignore_merges: 1 }))).toThrow(/model\.ignore_merges must be a boolean/);
    expect(load({ pre_tokenizer: { type: 'Sequence', pretokenizers: {} } })).toThrow(
      'tokenizer.json: pre_tokenizer.pretokenizers must be an array, got an object',
    );
    expect(
      load({
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: 'x' }, behavior: 'Merged', invert: false },
            { type: 'ByteLevel', add_prefix_space: false },
          ],
        },
      }),
    ).toThrow(/pre_tokenizer\.pretokenizers\[0\]\.behavior must be one of Removed, Isolated/);
    expect(load({ pre_tokenizer: { type: 'ByteLevel' } })).toThrow(
      'tokenizer.json: pre_tokenizer.add_prefix_space must be a boolean, got nothing',
    );
    expect(
      load({
        post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: 3 } }] },
      }),
    ).toThrow(
      'tokenizer.json: post_processor.single[0].SpecialToken.id must be a string, got number 3',
    );
  });

  it('a split pattern that can backtrack exponentially', () => {
    expect(
      load({
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: '(a+)+b' }, behavior: 'Isolated', invert: false },
            { type: 'ByteLevel', add_prefix_space: false, use_regex: false },
          ],
        },
      }),
    ).toThrow(/can backtrack exponentially/);
  });
});
