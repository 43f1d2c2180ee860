import { warmupCosine, warmupStableDecay } from '@tessera/optim';
import { describe, expect, it } from 'vitest';
import { fx } from './test-utils/fixtures.js';

describe('schedules', () => {
  it('warmup + cosine gives the textbook values', () => {
    const cos = warmupCosine({ lr: 1, warmup: 10, total: 110, minLr: 0.1 });
    expect(cos(0)).toBeCloseTo(0.1);
    expect(cos(9)).toBeCloseTo(1);
    expect(cos(60)).toBeCloseTo(0.55); // half way through the decay: the mean of lr and minLr
    expect(cos(110)).toBe(0.1);
    expect(cos(500)).toBe(0.1);
  });

  it('warmup-stable-decay holds the peak, then decays linearly to minLr', () => {
    const wsd = warmupStableDecay({ lr: 1, warmup: 10, total: 100, decayFraction: 0.2 });
    expect(wsd(4)).toBeCloseTo(0.5);
    expect(wsd(50)).toBe(1);
    expect(wsd(79)).toBe(1);
    expect(wsd(89)).toBeCloseTo(0.5);
    expect(wsd(99)).toBeCloseTo(0);
  });

  it('agree with the Python definitions in make_fixtures.py', () => {
    const { adamw, muon } = fx.schedules;
    const cos = warmupCosine(adamw.warmupCosine);
    const wsd = warmupStableDecay(muon.adamwWarmupStableDecay);
    for (const [k, lr] of (adamw.lrs as number[]).entries()) expect(cos(k)).toBeCloseTo(lr, 12);
    for (const [k, lr] of (muon.adamwLrs as number[]).entries()) expect(wsd(k)).toBeCloseTo(lr, 12);
  });

  it('bad values and unknown keys are errors naming the option', () => {
    expect(() => warmupCosine({ lr: 1, warmup: 20, total: 10 })).toThrow(
      /warmupCosine: warmup \(20\) exceeds total \(10\)/,
    );
    expect(() => warmupCosine({ lr: Number.NaN, warmup: 1, total: 10 })).toThrow(
      /warmupCosine: lr must be a finite number >= 0, got NaN/,
    );
    expect(() => warmupCosine({ lr: 1, warmup: 1, total: 10, min_lr: 0 } as never)).toThrow(
      /warmupCosine: unknown option "min_lr" \(known options: lr, warmup, total, minLr\)/,
    );
    expect(() => warmupStableDecay({ lr: 1, warmup: 1, total: 10, decayFraction: 0 })).toThrow(
      /warmupStableDecay: decayFraction must be in \(0, 1\], got 0/,
    );
    expect(() => warmupStableDecay({ lr: 1, warmup: 1, total: 10, decay: 0.1 } as never)).toThrow(
      /warmupStableDecay: unknown option "decay"/,
    );
  });
});
