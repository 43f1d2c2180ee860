import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { describe, expect, it } from 'vitest';
import { heapMerge, type PairRank, scanMerge } from './bpe-merge.js';
import { fromHuggingFaceJson, toHuggingFaceJson } from './hf.js';
import { lcg, ranksOf } from './test-corpus.js';
import type { Tokenizer } from './tokenizer.js';
import { trainBpe } from './train.js';

const cl100kRanks = ranksOf(cl100k);

/** tiktoken-style ranks over a byte string: a pair merges when the concatenation is a token. */
function tiktokenRank(piece: string): PairRank {
  return (a, _, c) => cl100kRanks.get(piece.slice(a, c)) ?? Number.POSITIVE_INFINITY;
}

/** Hugging Face-style ranks: the position of "left right" in a merges list. */
const hfMerges = (() => {
  const text = 'the cat sat on the mat; 1234 1234 aaaa bbbb    ababab the end. '.repeat(40);
  const trained = trainBpe([text], { vocabSize: 400 });
  return (fromHuggingFaceJson(toHuggingFaceJson(trained)) as Tokenizer).mergeRanks!;
})();
function mergesRank(piece: string): PairRank {
  return (a, b, c) =>
    hfMerges.get(`${piece.slice(a, b)}\u0100${piece.slice(b, c)}`) ?? Number.POSITIVE_INFINITY;
}

/** Random byte strings over an alphabet, seeded. */
function randomStrings(alphabet: string, count: number, maxLength: number, seed: number): string[] {
  const rnd = lcg(seed);
  return Array.from({ length: count }, () => {
    let s = '';
    const n = Math.floor(rnd() * (maxLength + 1));
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    return s;
  });
}

const alphabets = ['a', 'ab', 'a b', 'abc \n', '0123456789', ' \t\n', 'the cat\u00e9\u00ff!'];
const longRuns = ['a', ' ', '0', 'ab', 'the ', '\n', '1234 '].map((unit) =>
  unit.repeat(Math.ceil(3000 / unit.length)),
);

describe.each([
  ['tiktoken ranks (cl100k_base)', tiktokenRank],
  ['Hugging Face merges', mergesRank],
] as const)('heapMerge agrees with the scanning oracle: %s', (_, rankOf) => {
  it('on random strings over small alphabets', () => {
    let merged = 0;
    for (const [k, alphabet] of alphabets.entries()) {
      for (const piece of randomStrings(alphabet, 150, 120, k + 1)) {
        const heap = heapMerge(piece.length, rankOf(piece));
        expect(heap).toEqual(scanMerge(piece.length, rankOf(piece)));
        merged += piece.length + 1 - heap.length;
      }
    }
    expect(merged).toBeGreaterThan(1000); // merges really happen
  });

  it('on long runs of one unit', () => {
    for (const piece of longRuns)
      expect(heapMerge(piece.length, rankOf(piece))).toEqual(
        scanMerge(piece.length, rankOf(piece)),
      );
  });
});

describe('merge order', () => {
  // Pairs of one rank merge leftmost first: "aaa" with only "aa" mergeable is [aa][a].
  const rank: PairRank = (a, _, c) => (c - a === 2 ? 0 : Number.POSITIVE_INFINITY);
  it.each([
    ['heapMerge', heapMerge],
    ['scanMerge', scanMerge],
  ])('%s takes the leftmost of equal ranks, the lowest rank first', (_, merge) => {
    expect(merge(3, rank)).toEqual([0, 2, 3]);
    expect(merge(0, rank)).toEqual([0]);
    expect(merge(1, rank)).toEqual([0, 1]);
    // "abc" where "bc" ranks before "ab": [a][bc].
    const ranks: Record<string, number> = { ab: 5, bc: 1 };
    const piece = 'abc';
    expect(merge(3, (a, _b, c) => ranks[piece.slice(a, c)] ?? Number.POSITIVE_INFINITY)).toEqual([
      0, 1, 3,
    ]);
  });
});
