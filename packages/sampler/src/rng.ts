/** A small seeded generator (SplitMix32): the same seed gives the same samples everywhere. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`Rng: seed must be an integer, got ${seed}`);
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 2 ** 32;
  }
}

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
