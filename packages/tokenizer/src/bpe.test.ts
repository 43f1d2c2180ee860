import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { describe, expect, it } from 'vitest';
import { BytePairModel } from './bpe.js';
import { scanMerge } from './bpe-merge.js';
import { ranksOf } from './test-corpus.js';

const ranks = ranksOf(cl100k);

/** Ids from the scanning oracle, tiktoken-style. */
function oracleIds(piece: string): number[] {
  const rank = (a: number, _: number, c: number) =>
    ranks.get(piece.slice(a, c)) ?? Number.POSITIVE_INFINITY;
  const bounds = scanMerge(piece.length, rank);
  return bounds.slice(1).map((end, i) => ranks.get(piece.slice(bounds[i], end))!);
}

describe('BytePairModel', () => {
  const model = new BytePairModel(ranks);

  it('encodes long pieces like the scanning oracle (tiktoken ranks)', () => {
    for (const piece of [
      'a'.repeat(5000),
      ' '.repeat(4999),
      'ab'.repeat(2000),
      '\u00c3\u00a9'.repeat(1500),
    ])
      expect(model.encodePiece(piece)).toEqual(oracleIds(piece));
  });

  it('takes a piece that is a token whole (tiktoken), or with ignoreMerges', () => {
    expect(model.encodePiece('hello')).toEqual([ranks.get('hello')]);
    const merges = new Map([[BytePairModel.mergeKey('a', 'b'), 0]]);
    const encoder = new Map([
      ['a', 0],
      ['b', 1],
      ['ab', 2],
      ['abb', 3],
    ]);
    expect(new BytePairModel(encoder, merges).encodePiece('abb')).toEqual([2, 1]);
    expect(new BytePairModel(encoder, merges, true).encodePiece('abb')).toEqual([3]);
  });

  it('names a byte the vocabulary lacks', () => {
    expect(() => new BytePairModel(new Map([['a', 0]])).encodePiece('ab')).toThrow(
      'BPE: no token for byte sequence "b" (the vocabulary lacks a base byte)',
    );
  });
});
