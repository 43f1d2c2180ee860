import { readFileSync } from 'node:fs';
import {
  accuracy,
  bootstrapCI,
  exactMatch,
  normalizeAnswer,
  passAtK,
  tokenF1,
} from '@tessera/eval';
import { describe, expect, it } from 'vitest';

describe('SQuAD exact match and F1', () => {
  it('normalises case, punctuation, articles and spaces', () => {
    expect(normalizeAnswer('  The Eiffel   Tower!! ')).toBe('eiffel tower');
    expect(exactMatch('the Eiffel Tower.', ['Eiffel tower', 'Paris'])).toBe(1);
    expect(exactMatch('Eiffel', 'Eiffel Tower')).toBe(0);
  });

  it('token F1 from overlaps (hand-computed), the best reference, and empty answers', () => {
    // pred: [big, red, dog]; ref: [red, dog, barked] → P = R = 2/3 → F1 = 2/3
    expect(tokenF1('a big red dog', 'The red dog barked')).toBeCloseTo(2 / 3, 12);
    expect(tokenF1('red', ['blue', 'red car'])).toBeCloseTo(2 / 3, 12);
    expect(tokenF1('the', '')).toBe(1); // both empty after normalisation
    expect(tokenF1('cat', 'the')).toBe(0);
    expect(tokenF1('日本 語', '日本 語')).toBe(1);
  });
});

describe('accuracy and pass@k', () => {
  it('accuracy, and mismatched lengths are an error', () => {
    expect(accuracy([1, 2, 3, 4], [1, 0, 3, 0])).toBe(0.5);
    expect(() => accuracy([1], [1, 2])).toThrow(/1 predictions for 2 labels/);
  });

  it('pass@k equals 1 − C(n−c,k)/C(n,k)', () => {
    const choose = (n: number, k: number): number => (k === 0 ? 1 : (n * choose(n - 1, k - 1)) / k);
    expect(passAtK(5, 2, 1)).toBeCloseTo(0.4, 12);
    expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 12);
    for (const [n, c, k] of [
      [20, 3, 5],
      [100, 1, 10],
      [200, 50, 100],
    ] as const) {
      expect(passAtK(n, c, k)).toBeCloseTo(1 - choose(n - c, k) / choose(n, k), 9);
    }
    expect(passAtK(10, 8, 3)).toBe(1);
    expect(passAtK(10, 0, 3)).toBe(0);
    expect(() => passAtK(3, 1, 5)).toThrow(/k \(5\) cannot exceed the number of samples n \(3\)/);
  });
});

describe('bootstrap confidence intervals', () => {
  it('bracket the metric, narrow with more items, and are reproducible per seed', () => {
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const small = Array.from({ length: 40 }, (_, i) => +(i % 3 === 0));
    const large = Array.from({ length: 4000 }, (_, i) => +(i % 3 === 0));
    const a = bootstrapCI(small, mean, { seed: 1 });
    const b = bootstrapCI(large, mean, { seed: 1 });
    expect(a.low).toBeLessThanOrEqual(a.value);
    expect(a.high).toBeGreaterThanOrEqual(a.value);
    expect(b.high - b.low).toBeLessThan((a.high - a.low) / 5);
    expect(bootstrapCI(small, mean, { seed: 1 })).toEqual(a);
    expect(() => bootstrapCI([], mean)).toThrow(/no items/);
    expect(() => bootstrapCI(small, mean, { sample: 10 } as { samples?: number })).toThrow(
      'bootstrapCI: unknown option "sample" (known options: samples, confidence, seed)',
    );
  });
});

describe('SQuAD normalisation matches the official evaluation script', () => {
  const cases = JSON.parse(
    readFileSync(new URL('../fixtures/squad.json', import.meta.url), 'utf8'),
  ) as {
    prediction: string;
    reference: string;
    normalized: string;
    exactMatch: number;
    f1: number;
  }[];

  it(`normalizes, matches and scores ${cases.length} answers with Unicode whitespace and letters next to articles as Python does`, () => {
    for (const c of cases) {
      expect(normalizeAnswer(c.prediction), JSON.stringify(c.prediction)).toBe(c.normalized);
      expect(exactMatch(c.prediction, c.reference)).toBe(c.exactMatch);
      expect(tokenF1(c.prediction, c.reference)).toBeCloseTo(c.f1, 14);
    }
  });
});
