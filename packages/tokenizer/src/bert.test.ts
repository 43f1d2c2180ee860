import { describe, expect, it } from 'vitest';
import { bertNormalize, bertPreTokenize, inRanges } from './bert.js';
import { bertExpected } from './hf-fixtures.js';

describe('BERT normalizer and pre-tokenizer equal Hugging Face tokenizers (fixtures/make-hf-fixtures.ts)', () => {
  it.each(bertExpected.normalized.map((n) => [JSON.stringify(n.options), n] as const))(
    'BertNormalizer %s',
    (_, { options, texts }) => {
      for (const [text, normalized] of texts)
        expect([text, bertNormalize(text, options)]).toEqual([text, normalized]);
    },
  );

  it('BertPreTokenizer', () => {
    for (const [text, pieces] of bertExpected.preTokenized)
      expect([text, bertPreTokenize(text)]).toEqual([text, pieces]);
  });

  it('characters whose category came after Unicode 8.0 keep their Unicode 8.0 treatment', () => {
    const [, normalized] = bertExpected.normalized[0]!.texts.find(([t]) => t.includes('\u2e4f'))!;
    // Unicode 9+ punctuation, mark and format characters are kept, as Hugging Face keeps them.
    for (const ch of ['\u2e43', '\u2e4f', '\u1ac1', '\u0890']) expect(normalized).toContain(ch);
    expect(bertNormalize('a\u2e4fb \u0890', bertExpected.normalized[0]!.options)).toBe(
      'a\u2e4fb \u0890',
    );
  });
});

describe('inRanges', () => {
  it('finds code points in flattened inclusive ranges', () => {
    const ranges = [2, 4, 10, 10, 20, 30];
    const inside = [...Array(35).keys()].filter((c) => inRanges(ranges, c));
    const expected = [...Array(35).keys()].filter(
      (c) => (c >= 2 && c <= 4) || c === 10 || (c >= 20 && c <= 30),
    );
    expect(inside).toEqual(expected);
    expect(inRanges([], 0)).toBe(false);
  });
});
