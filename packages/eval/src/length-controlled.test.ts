import { describe, expect, it } from 'vitest';
import { type LengthOutcome, lengthControlledWinRate } from './length-controlled.js';

/** The penalised cross-entropy's gradient at (θ, φ), as the fit defines it (λ = 0.01). */
function gradient(outcomes: LengthOutcome[], theta: number, phi: number): [number, number] {
  const diffs = outcomes.map((o) => o.lengthA - o.lengthB);
  const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
  const sd = Math.sqrt(diffs.reduce((a, d) => a + (d - mean) ** 2, 0) / diffs.length);
  let g0 = 0.01 * theta;
  let g1 = 0.01 * phi;
  for (const [i, o] of outcomes.entries()) {
    const x = sd > 0 ? Math.tanh(diffs[i]! / sd) : 0;
    const p = 1 / (1 + Math.exp(-(theta + phi * x)));
    g0 += p - o.score;
    g1 += (p - o.score) * x;
  }
  return [g0, g1];
}

describe('lengthControlledWinRate', () => {
  it('equals the raw win rate when the answers have the same length', () => {
    const outcomes = [1, 1, 1, 0, 0.5, 1, 0, 1].map((score) => ({
      score,
      lengthA: 40,
      lengthB: 40,
    }));
    const raw = outcomes.reduce((a, o) => a + o.score, 0) / outcomes.length;
    expect(lengthControlledWinRate(outcomes).winRate).toBeCloseTo(raw, 2);
  });

  it('takes out a judge that picks the longer answer: near 0.5 where length decides every verdict', () => {
    // A is longer on 8 of 10 and wins exactly those: raw 0.8, all of it length.
    const outcomes = Array.from({ length: 10 }, (_, i) =>
      i < 8 ? { score: 1, lengthA: 120, lengthB: 60 } : { score: 0, lengthA: 50, lengthB: 110 },
    );
    const fit = lengthControlledWinRate(outcomes);
    expect(fit.phi).toBeGreaterThan(1);
    expect(fit.winRate).toBeLessThan(0.65);
    expect(fit.winRate).toBeGreaterThan(0.35);
  });

  it('keeps a win that length does not explain, and stops at the optimum (zero gradient)', () => {
    // A wins 7 of 10 whatever the lengths, which alternate.
    const outcomes = Array.from({ length: 10 }, (_, i) => ({
      score: i < 7 ? 1 : 0,
      lengthA: i % 2 ? 100 : 50,
      lengthB: i % 2 ? 50 : 100,
    }));
    const fit = lengthControlledWinRate(outcomes);
    expect(fit.winRate).toBeGreaterThan(0.6);
    const [g0, g1] = gradient(outcomes, fit.theta, fit.phi);
    expect(Math.abs(g0) + Math.abs(g1)).toBeLessThan(1e-9);
  });

  it('names bad input', () => {
    expect(() => lengthControlledWinRate([])).toThrow(
      'lengthControlledWinRate: no outcomes to fit',
    );
    expect(() => lengthControlledWinRate([{ score: 2, lengthA: 1, lengthB: 1 }])).toThrow(
      'outcomes[0].score is 2, expected 0..1',
    );
  });
});
