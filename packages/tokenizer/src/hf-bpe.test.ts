import { describe, expect, it } from 'vitest';
import { fromHuggingFaceJson } from './hf.js';
import { hfBase, hfVariant } from './hf-fixtures.js';

// The whole accept/refuse table against Hugging Face is in hf.test.ts; these are the review's
// cases, with their messages.
const base = hfBase as {
  model: Record<string, unknown> & { vocab: Record<string, number> };
  added_tokens: Record<string, unknown>[];
};
const load = (patch: Record<string, unknown>) => () => fromHuggingFaceJson(hfVariant(patch));
const model = (more: Record<string, unknown>) => ({ model: { ...base.model, ...more } });
const vocab = (more: Record<string, unknown>) => model({ vocab: { ...base.model.vocab, ...more } });
const split = (pattern: Record<string, unknown>) => ({
  pre_tokenizer: {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  },
});

describe('a BPE tokenizer.json is read as Hugging Face reads it, naming the field it refuses', () => {
  it('components other than a byte-level BPE has', () => {
    expect(load({ pre_tokenizer: { type: 'Metaspace' } })).toThrow(
      'tokenizer.json: pre_tokenizer.type "Metaspace" is not supported',
    );
    expect(load({ decoder: { type: 'Fuse' } })).toThrow(
      'tokenizer.json: decoder.type "Fuse" is not supported',
    );
    expect(load(model({ dropout: 0.1 }))).toThrow(
      'tokenizer.json: model.dropout is 0.1: BPE dropout is not supported',
    );
  });

  it('wrong JSON types (the review cases)', () => {
    expect(load(model({ fuse_unk: 'x' }))).toThrow(
      'tokenizer.json: model.fuse_unk must be a boolean, got string "x"',
    );
    expect(load(model({ unk_token: 5 }))).toThrow(
      'tokenizer.json: model.unk_token must be a string, got number 5',
    );
    expect(load(split({ Regex: 'a', String: 'b' }))).toThrow(
      'tokenizer.json: pre_tokenizer.pretokenizers[0].pattern must be {"String": text} or {"Regex": pattern}, got the keys ["Regex","String"]',
    );
    expect(load({ decoder: { type: 'ByteLevel' } })).toThrow(
      'tokenizer.json: decoder.trim_offsets must be a boolean, got nothing',
    );
  });

  it('vocab ids outside u32 (the review cases 2^32 and 2^40), and duplicate ids', () => {
    for (const id of [2 ** 32, 2 ** 40, -1, 1.5, '97'])
      expect(load(vocab({ a: id }))).toThrow(
        `tokenizer.json: model.vocab["a"] must be an integer from 0 to 4294967295 (u32), got ${typeof id} ${JSON.stringify(id)}`,
      );
    expect(load(vocab({ a: 98 }))).toThrow(/model\.vocab\["[ab]"\] is id 98, which "[ab]" has too/);
    expect(fromHuggingFaceJson(hfVariant(vocab({ zz: 2 ** 32 - 1 }))).vocabSize).toBe(2 ** 32);
  });

  it('added tokens without id, with empty content, or with flags of the wrong type', () => {
    const mask = base.added_tokens[0]!;
    const { id: _, ...noId } = mask;
    expect(load({ added_tokens: [noId] })).toThrow(
      'tokenizer.json: added_tokens[0].id must be an integer from 0 to 4294967295 (u32), got nothing',
    );
    expect(load({ added_tokens: [{ ...mask, content: '' }] })).toThrow(
      'tokenizer.json: added_tokens[0].content must not be empty',
    );
    expect(load({ added_tokens: [{ ...mask, lstrip: 'yes' }] })).toThrow(
      'tokenizer.json: added_tokens[0].lstrip must be a boolean, got string "yes"',
    );
  });

  it('merges whose parts or result are not in the vocabulary, or that do not have two parts; a file without merges', () => {
    expect(load(model({ merges: ['a b c'] }))).toThrow(
      'tokenizer.json: model.merges[0] must be two tokens ("a b" or ["a", "b"]), got "a b c"',
    );
    expect(load(model({ merges: [['a', 'b', 'c']] }))).toThrow(
      /model\.merges\[0\] must be two tokens/,
    );
    expect(load(model({ merges: ['Z Q'] }))).toThrow(
      'tokenizer.json: model.merges[0] "Z Q" needs "ZQ", which is not in model.vocab',
    );
    expect(load(model({ merges: ['h e', ['o', 'u']] }))).toThrow(
      'tokenizer.json: model.merges[1] must be a string, got an array',
    );
    expect(load(model({ merges: undefined }))).toThrow(
      'tokenizer.json: model.merges is missing (Hugging Face needs both vocab and merges)',
    );
  });

  it('"#version" lines among string merges are skipped, as Hugging Face skips them', () => {
    const merges = base.model.merges as string[][];
    const asStrings = merges.map((m) => m.join(' '));
    const plain = fromHuggingFaceJson(hfVariant(model({ merges: asStrings })));
    const versioned = fromHuggingFaceJson(
      hfVariant(model({ merges: ['#version: 0.2', ...asStrings] })),
    );
    expect(versioned.encode('the theatre')).toEqual(plain.encode('the theatre'));
  });

  it('a split pattern that does not compile or can backtrack catastrophically names the field', () => {
    expect(load(split({ Regex: '(a|a)*$' }))).toThrow(
      /^tokenizer\.json: pre_tokenizer\.pretokenizers\[0\]\.pattern\.Regex pattern "\(a\|a\)\*\$": .* can backtrack exponentially/,
    );
    expect(load(split({ Regex: '(' }))).toThrow(
      'tokenizer.json: pre_tokenizer.pretokenizers[0].pattern.Regex pattern "(": unbalanced "(" at 0',
    );
  });
});
