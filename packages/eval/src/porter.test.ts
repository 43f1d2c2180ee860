import { readFileSync } from 'node:fs';
import { porterStem, rouge } from '@tessera/eval';
import { describe, expect, it } from 'vitest';

// fixtures/porter.json: NLTK's default PorterStemmer on every word of Tiny Shakespeare and the
// examples of Porter's paper (fixtures/make-porter-fixture.py made it).
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/porter.json', import.meta.url), 'utf8'),
) as {
  stems: Record<string, string>;
};

describe('Porter stemmer (NLTK default mode)', () => {
  it('matches NLTK on every fixture word', () => {
    const words = Object.entries(fixture.stems);
    expect(words.length).toBeGreaterThan(11_000);
    const mismatches = words.filter(([w, s]) => porterStem(w) !== s).slice(0, 5);
    expect(mismatches).toEqual([]);
  });

  it('stems the classic examples and lowercases first', () => {
    expect(
      ['caresses', 'ponies', 'relational', 'generalization', 'Hopefulness'].map(porterStem),
    ).toEqual(['caress', 'poni', 'relat', 'gener', 'hope']);
  });

  // 'running dogs' vs 'the dog runs': stemmed to [run, dog] and [the, dog, run].
  it('ROUGE with useStemmer stems tokens longer than three letters', () => {
    const plain = rouge('running dogs', 'the dog runs', ['rouge1']).rouge1!;
    const stemmed = rouge('running dogs', 'the dog runs', ['rouge1'], { useStemmer: true }).rouge1!;
    expect(plain.fmeasure).toBe(0);
    expect(stemmed.precision).toBeCloseTo(1, 12);
    expect(stemmed.recall).toBeCloseTo(2 / 3, 12);
  });
});
