import { describe, expect, it } from 'vitest';
import { WordPieceTokenizer } from './wordpiece.js';

const vocab = new Map([
  ['[UNK]', 0],
  ['un', 1],
  ['##able', 2],
  ['[X]', 3],
]);
const added = {
  id: 3,
  content: '[X]',
  special: true,
  singleWord: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
};

describe('WordPieceTokenizer', () => {
  it('encodes words longest-first with ## pieces, and added tokens whole', () => {
    const tok = new WordPieceTokenizer({ vocab, addedTokens: [added] });
    expect(tok.encode('Unable [X] unx')).toEqual([1, 2, 3, 0]);
    expect(tok.specialTokens).toEqual({ '[X]': 3 });
    expect(tok.decode([1, 2, 3])).toBe('unable [X]');
    expect(tok.decode([1, 2, 3], { skipSpecialTokens: true })).toBe('unable');
    expect(new WordPieceTokenizer({ vocab, decoder: null }).decode([1, 2])).toBe('un ##able');
  });

  it('refuses unknown ids, a missing unknown token and an added token on another token’s id', () => {
    const tok = new WordPieceTokenizer({ vocab });
    expect(() => tok.decode([9])).toThrow('WordPiece: unknown token id 9 (vocabulary size 4)');
    expect(() => new WordPieceTokenizer({ vocab: new Map([['a', 0]]) })).toThrow(
      'WordPiece: the vocabulary lacks the unknown token "[UNK]"',
    );
    expect(() => new WordPieceTokenizer({ vocab, addedTokens: [{ ...added, id: 1 }] })).toThrow(
      'WordPiece: added token "[X]" has id 1, which is the vocabulary token "un"',
    );
  });

  it('refuses unknown option keys', () => {
    const tok = new WordPieceTokenizer({ vocab });
    expect(() => tok.encode('x', { addSpecial: true } as never)).toThrow(
      'WordPieceTokenizer.encode: unknown option "addSpecial" (known options: addSpecialTokens)',
    );
    expect(() => tok.decode([0], { skip: true } as never)).toThrow(
      /WordPieceTokenizer\.decode: unknown option "skip"/,
    );
    expect(() => new WordPieceTokenizer({ vocab, lowerCase: true } as never)).toThrow(
      /WordPieceTokenizer: unknown option "lowerCase"/,
    );
  });
});
