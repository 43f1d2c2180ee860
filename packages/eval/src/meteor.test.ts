import { readFileSync } from 'node:fs';
import { corpusMeteor, type MeteorOptions, meteor } from '@tessera/eval';
import { describe, expect, it } from 'vitest';

// fixtures/meteor.json: NLTK 3.8's meteor_score with exact and stem stages (no WordNet) on
// perturbed Tiny Shakespeare lines (fixtures/make-meteor-fixture.py made it).
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/meteor.json', import.meta.url), 'utf8'),
) as {
  cases: { hypothesis: string[]; references: string[][]; score: number }[];
};

describe('METEOR (NLTK, exact + stem)', () => {
  it('matches NLTK on every fixture case', () => {
    expect(fixture.cases.length).toBeGreaterThan(300);
    for (const c of fixture.cases)
      expect(meteor(c.hypothesis, c.references)).toBeCloseTo(c.score, 12);
  });

  // Three exact matches in one chunk: P = 3/4, R = 3/5, Fmean = PR/(0.9P + 0.1R), penalty 0.5·(1/3)³.
  it('scores a hand-computed case and the fragmentation penalty', () => {
    const p = 3 / 4;
    const r = 3 / 5;
    const expected = ((p * r) / (0.9 * p + 0.1 * r)) * (1 - 0.5 * (1 / 3) ** 3);
    expect(meteor('the cat sat down', 'the cat sat on mats')).toBeCloseTo(expected, 12);
    expect(meteor('The Dogs ran', 'the dog ran')).toBeGreaterThan(
      meteor('The Dogs ran', 'the dog ran', { stem: false }),
    );
    expect(corpusMeteor(['a b', 'x'], [['a b'], ['y']])).toBeCloseTo(meteor('a b', 'a b') / 2, 12);
  });

  // One chunk of 5000 matches: penalty 0.5 / 5000^3. An empty reference scores 0.
  it('scores very long identical inputs and an empty reference', () => {
    const words = Array.from({ length: 5000 }, (_, i) => `w${i % 997}`).join(' ');
    expect(meteor(words, words)).toBeCloseTo(1 - 0.5 / 5000 ** 3, 12);
    expect(meteor('a b c', '')).toBe(0);
  });

  it('rejects bad input', () => {
    expect(() => meteor('a', [])).toThrow(/at least one reference/);
    expect(() => meteor('a', 'a', { alpha: 2 })).toThrow(/alpha must be in \[0, 1\], got 2/);
    expect(() => corpusMeteor(['a'], [])).toThrow(/1 hypotheses but 0 references/);
    const misspelt = { stemming: false } as MeteorOptions;
    expect(() => meteor('a', 'a', misspelt)).toThrow(
      'meteor: unknown option "stemming" (known options: alpha, beta, gamma, stem)',
    );
    expect(() => corpusMeteor(['a'], ['a'], misspelt)).toThrow(/^corpusMeteor: unknown/);
  });
});
