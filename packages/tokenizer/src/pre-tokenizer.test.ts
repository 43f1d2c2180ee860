import { describe, expect, it } from 'vitest';
import { fromHuggingFaceJson } from './hf.js';
import { hfExpected, hfVariant } from './hf-fixtures.js';
import {
  huggingFacePreTokenizer,
  type SplitBehavior,
  tiktokenPreTokenizer,
} from './pre-tokenizer.js';
import type { Tokenizer } from './tokenizer.js';

function pieces(split: ReturnType<typeof huggingFacePreTokenizer>, text: string): string[] {
  const out: string[] = [];
  split(text, 0, (piece) => out.push(piece));
  return out;
}

describe('Split keeps and drops spans as Hugging Face does (fixtures/make-hf-fixtures.ts)', () => {
  it('every behaviour, inverted or not, on literal patterns', () => {
    for (const c of hfExpected.pieces) {
      const split = huggingFacePreTokenizer([
        {
          type: 'Split',
          pattern: c.pattern,
          literal: true,
          behavior: c.behavior as SplitBehavior,
          invert: c.invert,
        },
      ]);
      expect([c, pieces(split, c.text)]).toEqual([c, c.pieces]);
    }
  });

  const variants = hfExpected.encodings.filter((e) => e.name.startsWith('Split'));
  it.each(variants.map((v) => [v.name, v] as const))('tokenizer.json %s', (_, variant) => {
    const tok = fromHuggingFaceJson(hfVariant(variant.patch)) as Tokenizer;
    for (const { text, ids } of variant.cases)
      expect([text, tok.encode(text)]).toEqual([text, ids]);
  });

  it('Isolated keeps the text the pattern does not match', () => {
    const split = huggingFacePreTokenizer([
      { type: 'Split', pattern: '[a-z]+', literal: false, behavior: 'Isolated', invert: false },
    ]);
    expect(pieces(split, 'hello world, ok').join('')).toBe('hello world, ok');
  });
});

describe('pre-tokenizer steps', () => {
  it('ByteLevel adds a prefix space that the input does not hold, and must come last', () => {
    const steps = huggingFacePreTokenizer([
      { type: 'ByteLevel', addPrefixSpace: true, useRegex: true },
    ]);
    const seen: [string, number, number][] = [];
    steps('Hi there', 10, (p, start, added) => seen.push([p, start, added]));
    expect(seen).toEqual([
      [' Hi', 10, 1],
      [' there', 12, 0],
    ]);
    expect(() =>
      huggingFacePreTokenizer([
        { type: 'ByteLevel', addPrefixSpace: false, useRegex: false },
        { type: 'Split', pattern: 'x', literal: true, behavior: 'Isolated', invert: false },
      ]),
    ).toThrow(/a Split step after ByteLevel is not supported/);
  });

  it('tiktoken skips the text no alternative matches', () => {
    const out: string[] = [];
    tiktokenPreTokenizer('[a-z]+')('hello world, ok', 0, (p) => out.push(p));
    expect(out).toEqual(['hello', 'world', 'ok']);
  });
});
