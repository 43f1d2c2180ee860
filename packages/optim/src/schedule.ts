import { checkOptions } from '@tessera/tensor-webgpu';

/**
 * A learning-rate schedule: the lr for a 0-based step. Pass it as an optimizer group's `lr`;
 * the optimizer reads it at every `step()` with its own step counter, which is saved and
 * restored with its state.
 */
export type Schedule = (step: number) => number;

/** Options of `warmupCosine`. */
export interface WarmupCosineOptions {
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  /** Steps of linear warmup. */
  warmup: number;
  /** Steps until the decay reaches `minLr`. */
  total: number;
  /** The learning rate at `total` steps and after (default 0). */
  minLr?: number;
}

/** Options of `warmupStableDecay`. */
export interface WarmupStableDecayOptions extends WarmupCosineOptions {
  /** The fraction of `total` spent in the final linear decay, in (0, 1] (default 0.2). */
  decayFraction?: number;
}

function check(name: string, value: number, what: string): void {
  if (!(Number.isFinite(value) && value >= 0))
    throw new RangeError(`${name}: ${what} must be a finite number >= 0, got ${value}`);
}

/**
 * Linear warmup from lr/warmup to `lr` over `warmup` steps, then cosine decay to `minLr` at
 * `total` steps (and `minLr` after), as in GPT-2/nanoGPT.
 *
 * @throws TypeError - an unknown option
 * @throws RangeError - a value that is not a finite number >= 0, or `warmup` > `total`
 */
export function warmupCosine(o: WarmupCosineOptions): Schedule {
  checkOptions('warmupCosine', o, ['lr', 'warmup', 'total', 'minLr']);
  const minLr = o.minLr ?? 0;
  for (const [k, v] of Object.entries({ lr: o.lr, warmup: o.warmup, total: o.total, minLr }))
    check('warmupCosine', v, k);
  if (o.warmup > o.total)
    throw new RangeError(`warmupCosine: warmup (${o.warmup}) exceeds total (${o.total})`);
  return (step) => {
    if (step < o.warmup) return (o.lr * (step + 1)) / o.warmup;
    if (step >= o.total) return minLr;
    const progress = (step - o.warmup) / Math.max(1, o.total - o.warmup);
    return minLr + 0.5 * (o.lr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}

/**
 * Warmup-stable-decay (WSD): linear warmup, a long constant phase, then a linear decay to
 * `minLr` over the last `decayFraction` of `total` steps.
 *
 * @throws TypeError - an unknown option
 * @throws RangeError - a value that is not a finite number >= 0, or `decayFraction` outside (0, 1]
 */
export function warmupStableDecay(o: WarmupStableDecayOptions): Schedule {
  checkOptions('warmupStableDecay', o, ['lr', 'warmup', 'total', 'decayFraction', 'minLr']);
  const minLr = o.minLr ?? 0;
  const fraction = o.decayFraction ?? 0.2;
  if (!(fraction > 0 && fraction <= 1))
    throw new RangeError(`warmupStableDecay: decayFraction must be in (0, 1], got ${fraction}`);
  for (const [k, v] of Object.entries({ lr: o.lr, warmup: o.warmup, total: o.total, minLr }))
    check('warmupStableDecay', v, k);
  const decayStart = Math.max(o.warmup, Math.floor(o.total * (1 - fraction)));
  return (step) => {
    if (step < o.warmup) return (o.lr * (step + 1)) / o.warmup;
    if (step < decayStart) return o.lr;
    if (step >= o.total) return minLr;
    return o.lr + ((minLr - o.lr) * (step - decayStart + 1)) / (o.total - decayStart);
  };
}
