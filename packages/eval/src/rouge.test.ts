import { corpusRouge, lcsIndices, type RougeOptions, rouge, rougeTokenize } from '@tessera/eval';
import { describe, expect, it } from 'vitest';

// Expected values are those of rouge-score's own test-suite (reference first there, prediction here first).
describe('ROUGE (rouge-score)', () => {
  const close = (
    s: { precision: number; recall: number; fmeasure: number },
    p: number,
    r: number,
    f: number,
  ) => {
    expect(s.precision).toBeCloseTo(p, 9);
    expect(s.recall).toBeCloseTo(r, 9);
    expect(s.fmeasure).toBeCloseTo(f, 9);
  };

  it('ROUGE-1 and ROUGE-2', () => {
    close(rouge('testing', 'testing one two', ['rouge1']).rouge1!, 1, 1 / 3, 1 / 2);
    close(rouge('testing one', 'testing one two', ['rouge2']).rouge2!, 1, 1 / 2, 2 / 3);
  });

  it('ROUGE-L for consecutive and non-consecutive matches', () => {
    close(rouge('testing one', 'testing one two', ['rougeL']).rougeL!, 1, 2 / 3, 4 / 5);
    close(rouge('testing two', 'testing one two', ['rougeL']).rougeL!, 1, 2 / 3, 4 / 5);
  });

  it('an empty prediction or reference scores 0 for every type', () => {
    for (const s of Object.values(rouge('', 'testing one two'))) close(s, 0, 0, 0);
    for (const s of Object.values(rouge('a b c', ''))) close(s, 0, 0, 0);
    close(rouge('w1', '', ['rougeLsum']).rougeLsum!, 0, 0, 0);
    close(rouge('/', 'w1 w2 w3 w4 w5', ['rougeLsum']).rougeLsum!, 0, 0, 0);
  });

  it('very long identical inputs score 1', () => {
    const words = Array.from({ length: 5000 }, (_, i) => `w${i % 997}`).join(' ');
    const r = rouge(words, words, ['rouge2', 'rougeL']);
    close(r.rouge2!, 1, 1, 1);
    close(r.rougeL!, 1, 1, 1);
  });

  it('LCS backtracking picks the same indices as rouge-score', () => {
    const ids = (xs: number[]) => xs.map(String);
    expect(lcsIndices(ids([1, 2, 3, 4, 5]), ids([2, 5, 3, 4]))).toEqual([1, 2, 3]);
    expect(lcsIndices(ids([1, 2, 3, 4, 5]), ids([8, 9]))).toEqual([]);
  });

  // Lin (2004) section 3.2: union LCS of [w1 w2] and [w1 w3 w5] covers 4 of 5 reference words.
  it('ROUGE-Lsum takes the union LCS over newline-separated sentences', () => {
    close(
      rouge('w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5', 'w1 w2 w3 w4 w5', ['rougeLsum']).rougeLsum!,
      0.4,
      0.8,
      (2 * 0.4 * 0.8) / 1.2,
    );
  });

  it('tokenises like rouge-score and takes the best of several references', () => {
    expect(rougeTokenize("It's 3.5 km—Héllo!")).toEqual(['it', 's', '3', '5', 'km', 'h', 'llo']);
    close(rouge('the cat', ['a dog', 'the cat sat'], ['rouge1']).rouge1!, 1, 2 / 3, 0.8);
    const mean = corpusRouge(['the cat', 'a dog'], ['the cat', 'the cat'], ['rouge1']).rouge1!;
    close(mean, 0.5, 0.5, 0.5);
  });

  it('rejects unknown types and mismatched corpora', () => {
    for (const bad of ['rougen', 'rouge0', 'rouge10']) {
      // @ts-expect-error: checking the runtime error for an invalid type name
      expect(() => rouge('a', 'a', [bad])).toThrow(
        /type must be rouge1..rouge9, rougeL or rougeLsum/,
      );
    }
    expect(() => corpusRouge(['a', 'b'], ['a'])).toThrow(/2 predictions but 1 references/);
    expect(() => rouge('a', [])).toThrow(/at least one reference/);
    const misspelt = { useStemming: true } as RougeOptions;
    expect(() => rouge('a', 'a', ['rouge1'], misspelt)).toThrow(
      'rouge: unknown option "useStemming" (known options: useStemmer)',
    );
    expect(() => corpusRouge(['a'], ['a'], ['rouge1'], misspelt)).toThrow(/^corpusRouge: unknown/);
    expect(() => rougeTokenize('a', misspelt)).toThrow(/^rougeTokenize: unknown/);
  });
});
