import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHuggingFaceJson } from './hf.js';
import { WordPieceTokenizer } from './wordpiece.js';

describe('WordPieceTokenizer', () => {
  it('BERT WordPiece matches an independent Python implementation (fixtures/make_wordpiece.py)', () => {
    const tok = fromHuggingFaceJson(
      readFileSync(new URL('../fixtures/bert-tokenizer.json', import.meta.url), 'utf8'),
    ) as WordPieceTokenizer;
    expect(tok).toBeInstanceOf(WordPieceTokenizer);
    const expected = JSON.parse(
      readFileSync(new URL('../fixtures/bert-expected.json', import.meta.url), 'utf8'),
    );
    for (const e of expected) expect(tok.encode(e.text, { addSpecialTokens: true })).toEqual(e.ids);
    expect(tok.decode(tok.encode('tokenization is fun'))).toBe('tokenization is fun');
  });
});

describe('WordPieceTokenizer options', () => {
  it('refuses unknown keys', () => {
    const tok = new WordPieceTokenizer({ vocab: new Map([['[UNK]', 0]]) });
    expect(() => tok.encode('x', { addSpecial: true } as never)).toThrow(
      'WordPieceTokenizer.encode: unknown option "addSpecial" (known options: addSpecialTokens)',
    );
    expect(() => tok.decode([0], { skip: true } as never)).toThrow(
      /WordPieceTokenizer\.decode: unknown option "skip"/,
    );
    expect(() => new WordPieceTokenizer({ vocab: new Map(), lowerCase: true } as never)).toThrow(
      /WordPieceTokenizer: unknown option "lowerCase"/,
    );
  });
});
