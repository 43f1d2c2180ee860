import type { Rng } from '@tessera/tensor-webgpu';

/** Index of the largest logit (the first on ties). */
export function argmaxRow(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** Draws an index from probabilities (need not sum exactly to 1) by inverse CDF. */
export function sampleIndex(p: ArrayLike<number>, rng: Rng): number {
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
