import { describe, expect, it } from 'vitest';
import { fromHuggingFaceJson } from './hf.js';
import { bertBase, bertExpected, bertVariant } from './hf-fixtures.js';
import { WordPieceTokenizer } from './wordpiece.js';

const load = (patch: Record<string, unknown>) =>
  fromHuggingFaceJson(bertVariant(patch)) as WordPieceTokenizer;

describe('a BERT tokenizer.json encodes and decodes as Hugging Face tokenizers (fixtures/make-hf-fixtures.ts)', () => {
  it.each(bertExpected.encodings.map((v) => [v.name, v] as const))('%s', (_, v) => {
    const tok = load(v.patch);
    expect(tok).toBeInstanceOf(WordPieceTokenizer);
    for (const c of v.cases) {
      expect([c.text, tok.encode(c.text)]).toEqual([c.text, c.ids]);
      const special = c.withSpecial ?? c;
      expect([c.text, tok.encode(c.text, { addSpecialTokens: true })]).toEqual([
        c.text,
        special.ids,
      ]);
      for (const d of [c, special, ...v.decodes]) {
        expect([d.ids, tok.decode(d.ids)]).toEqual([d.ids, d.decoded]);
        expect([d.ids, tok.decode(d.ids, { skipSpecialTokens: true })]).toEqual([
          d.ids,
          d.decodedSkippingSpecial,
        ]);
      }
    }
    for (const t of tok.addedTokens)
      expect([t.content, t.id]).toEqual([t.content, v.addedIds[t.content]]);
  });

  it('the review cases: [MASK] and [SEP] in the text are their ids, not [UNK]s', () => {
    const v = bertExpected.encodings[0]!;
    const tok = load(v.patch);
    for (const text of ['the [MASK] sat', 'hello [SEP] world']) {
      const ids = tok.encode(text);
      expect(ids).toEqual(v.cases.find((c) => c.text === text)!.ids);
      expect(ids).toContain(tok.specialId(text.includes('MASK') ? '[MASK]' : '[SEP]'));
    }
  });
});

describe('fromHuggingFaceJson refuses WordPiece files it cannot follow, naming the field', () => {
  const model = bertBase.model as Record<string, unknown>;
  const post = bertBase.post_processor as Record<string, unknown>;

  it('other components', () => {
    expect(() => load({ normalizer: { type: 'NFD' } })).toThrow(
      'tokenizer.json: normalizer.type "NFD" is not supported with a WordPiece model',
    );
    expect(() => load({ pre_tokenizer: null })).toThrow(
      'tokenizer.json: pre_tokenizer is missing: a WordPiece needs BertPreTokenizer here',
    );
    expect(() => load({ decoder: { type: 'ByteLevel' } })).toThrow(
      'tokenizer.json: decoder.type "ByteLevel" is not supported with a WordPiece model',
    );
    expect(() => load({ post_processor: { type: 'RobertaProcessing' } })).toThrow(
      'tokenizer.json: post_processor.type "RobertaProcessing" is not supported',
    );
  });

  it('wrong types, and a template whose ids are not the tokens', () => {
    expect(() => load({ model: { ...model, unk_token: 1 } })).toThrow(
      'tokenizer.json: model.unk_token must be a string, got number 1',
    );
    expect(() =>
      load({ normalizer: { ...(bertBase.normalizer as object), lowercase: 'yes' } }),
    ).toThrow('tokenizer.json: normalizer.lowercase must be a boolean, got string "yes"');
    expect(() => load({ post_processor: { ...post, special_tokens: {} } })).toThrow(
      'tokenizer.json: post_processor.special_tokens["[CLS]"] is missing: the template names it',
    );
    expect(() =>
      load({ post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 7] } }),
    ).toThrow(
      'tokenizer.json: post_processor.cls is [7] for "[CLS]", whose id here is 2: a template token must be that one id',
    );
  });
});
