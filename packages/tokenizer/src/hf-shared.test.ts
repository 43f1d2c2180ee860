import { describe, expect, it } from 'vitest';
import { fromHuggingFaceJson } from './hf.js';
import { bertExpected, bertVariant, hfBase, hfExpected, hfVariant } from './hf-fixtures.js';
import type { Tokenizer } from './tokenizer.js';

const base = hfBase as {
  model: Record<string, unknown> & { vocab: Record<string, number> };
  added_tokens: Record<string, unknown>[];
  post_processor: unknown;
};
const mask = base.added_tokens[0]!;
const load = (patch: Record<string, unknown>) => () => fromHuggingFaceJson(hfVariant(patch));

describe('added tokens get the ids Hugging Face gives them, not the ids written in the file', () => {
  it.each([
    ...hfExpected.encodings.map((v) => [`BPE: ${v.name}`, hfVariant(v.patch), v] as const),
    ...bertExpected.encodings.map(
      (v) => [`WordPiece: ${v.name}`, bertVariant(v.patch), v] as const,
    ),
  ])('%s', (_, json, v) => {
    const tok = fromHuggingFaceJson(json);
    const ids = Object.fromEntries(tok.addedTokens.map((t) => [t.content, t.id]));
    expect(ids).toEqual(v.addedIds);
  });

  it('a content already in the vocabulary takes the vocabulary id (the review case)', () => {
    const v = hfExpected.encodings.find((e) => e.name.includes('in the vocabulary under'))!;
    const tok = fromHuggingFaceJson(hfVariant(v.patch)) as Tokenizer;
    expect(tok.addedTokens.find((t) => t.content === 'he')!.id).toBe(base.model.vocab['he']);
    expect(() => tok.decode([300])).toThrow(/unknown token id 300/);
  });
});

describe('added tokens and templates that Tessera refuses, naming both sides', () => {
  it('a content repeated with other flags (Hugging Face keeps the first id and the last flags)', () => {
    expect(load({ added_tokens: [mask, { ...mask, id: 400, lstrip: true }] })).toThrow(
      'tokenizer.json: added_tokens[1] repeats the content "<mask>" of added_tokens[0] with other flags',
    );
  });

  it('an id Hugging Face counts that the vocabulary already uses (a vocabulary with a hole)', () => {
    // Without byte 0's token the vocabulary has 297 entries and ids up to 297: Hugging Face gives
    // <mask> id 297, which is also an ordinary token's.
    const { '\u0100': _, ...vocab } = base.model.vocab;
    const last = Object.keys(vocab).find((k) => vocab[k] === 297)!;
    expect(load({ model: { ...base.model, vocab }, added_tokens: [mask] })).toThrow(
      `Tokenizer: added token "<mask>" has id 297, which is the ordinary token ${JSON.stringify(last)}`,
    );
  });

  it('a template token whose ids are not the token, or that the template map lacks', () => {
    const special_tokens = { '<mask>': { id: '<mask>', ids: [5], tokens: ['<mask>'] } };
    const single = [
      { SpecialToken: { id: '<mask>', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
    ];
    const template = (more: Record<string, unknown>) => ({
      post_processor: { type: 'TemplateProcessing', single, pair: [], special_tokens, ...more },
    });
    expect(load(template({}))).toThrow(
      'tokenizer.json: post_processor.special_tokens["<mask>"].ids is [5] for "<mask>", whose id here is 298: a template token must be that one id',
    );
    expect(load(template({ special_tokens: {} }))).toThrow(
      /post_processor\.special_tokens\["<mask>"\] is missing/,
    );
    const hello = [{ SpecialToken: { id: 'hello', type_id: 0 } }, single[1]];
    expect(
      load(
        template({
          single: hello,
          special_tokens: { hello: { id: 'hello', ids: [1], tokens: ['hello'] } },
        }),
      ),
    ).toThrow(
      'tokenizer.json: post_processor.special_tokens["hello"].ids names "hello", which is not a special token here',
    );
  });
});
