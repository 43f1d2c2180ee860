import type { Rng } from '@tessera/tensor-webgpu';

/**
 * The error for a row of logits that holds NaN or +Infinity (a model whose activations overflow
 * f32): no token can be chosen from it. `token` is the first such position, `value` its value
 * (a probability computed from such logits is NaN). -Infinity is not an error: it marks a token
 * that may not be chosen.
 */
export class NonFiniteLogitsError extends Error {
  constructor(
    readonly token: number,
    readonly value: number,
  ) {
    super(`sampler: logits are not finite (${value} at token ${token})`);
    this.name = 'NonFiniteLogitsError';
  }
}

/**
 * Checks a row of a model's logits before any processor sees it.
 *
 * @throws NonFiniteLogitsError - at the first NaN or +Infinity of `row`
 */
export function checkFiniteLogits(row: ArrayLike<number>): void {
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (Number.isNaN(v) || v === Number.POSITIVE_INFINITY) throw new NonFiniteLogitsError(i, v);
  }
}

/**
 * Index of the largest logit (the first on ties).
 *
 * @throws NonFiniteLogitsError - a logit is NaN or +Infinity
 */
export function argmaxRow(logits: ArrayLike<number>): number {
  checkFiniteLogits(logits);
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/**
 * Draws an index from probabilities (need not sum exactly to 1) by inverse CDF.
 *
 * @throws NonFiniteLogitsError - a probability is NaN or +Infinity (the logits were not finite)
 * @throws Error - every probability is 0 (every logit was -Infinity)
 */
export function sampleIndex(p: ArrayLike<number>, rng: Rng): number {
  checkFiniteLogits(p);
  let total = 0;
  for (let i = 0; i < p.length; i++) total += p[i]!;
  if (!(total > 0))
    throw new Error('sampler: every token has probability 0 (all logits are -Infinity)');
  let r = rng.next() * total;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i]! <= 0) continue;
    last = i;
    r -= p[i]!;
    if (r < 0) return i;
  }
  return last; // rounding left a sliver: the last possible token
}
