import { clipFractions, clippedSurrogate, maskedMean } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { B, T: L } = fx.inputs;
const clip = { epsilonLow: 0.2, epsilonHigh: 0.28 };

describe.each(all)('clippedSurrogate ($info.backend)', (dev) => {
  const old = t(dev, fx.inputs.old, [B, L]);
  const mask = t(dev, fx.inputs.mask, [B, L]);
  const advantages = {
    seq: t(dev, fx.inputs.advSeq, [B]),
    tok: t(dev, fx.inputs.advTok, [B, L]),
  };

  for (const kind of ['seq', 'tok'] as const) {
    it(`per-${kind === 'seq' ? 'sequence' : 'token'} advantages: loss, gradient and clip fractions match PyTorch`, async () => {
      const want = fx.surrogate[kind];
      const logp = t(dev, fx.inputs.logp, [B, L]).requiresGrad_();
      const perToken = clippedSurrogate(logp, old, advantages[kind], clip);
      expect(maxRelError(await perToken.data(), want.perToken)).toBeLessThan(1e-5);
      maskedMean(perToken, mask).backward();
      expect(maxRelError(await logp.grad!.data(), want.gradLogp)).toBeLessThan(1e-5);
      const fractions = clipFractions(logp, old, advantages[kind], mask, clip);
      expect(await fractions.low.item()).toBeCloseTo(want.clipLow, 6);
      expect(await fractions.high.item()).toBeCloseTo(want.clipHigh, 6);
      expect(await fractions.region.item()).toBeCloseTo(want.clipRegion, 6);
    });
  }

  it('at ratio 1 the gradient is −A·∇log π', async () => {
    const logp = t(dev, fx.inputs.logp, [B, L]).requiresGrad_();
    T.sum(clippedSurrogate(logp, logp.detach(), advantages.tok)).backward();
    const want = fx.inputs.advTok.map((a: number) => -a);
    expect(maxRelError(await logp.grad!.data(), want)).toBeLessThan(1e-6);
  });
});

describe('clippedSurrogate: options and gradients', () => {
  it('epsilonHigh defaults to epsilonLow; bad ranges and unknown keys throw', async () => {
    const logp = T.tensor([[Math.log(1.25)]], { device: cpu });
    const zero = T.zeros([1, 1], { device: cpu });
    const a = T.ones([1], { device: cpu });
    expect(await clippedSurrogate(logp, zero, a, { epsilonLow: 0.2 }).item()).toBeCloseTo(-1.2, 6);
    expect(
      await clippedSurrogate(logp, zero, a, { epsilonLow: 0.2, epsilonHigh: 0.28 }).item(),
    ).toBeCloseTo(-1.25, 6);
    expect(() => clippedSurrogate(logp, zero, a, { epsilonLow: 1.5 })).toThrow(
      /clippedSurrogate: epsilonLow must be a finite number >= 0 and <= 1, got number 1.5/,
    );
    // @ts-expect-error: misspelt option
    expect(() => clippedSurrogate(logp, zero, a, { epsilon: 0.2 })).toThrow(
      /unknown option "epsilon"/,
    );
    expect(() => clippedSurrogate(logp, zero, T.ones([2], { device: cpu }))).toThrow(
      /advantages has B = 2/,
    );
  });

  it('gradient matches finite differences away from the clip edges', async () => {
    // log-ratios well inside, below and above [log 0.8, log 1.28], with both signs of advantage.
    const logRatio = [-0.6, -0.05, 0.1, 0.5, -0.5, 0.6];
    const advantages = T.tensor([1.5, -0.7], { device: cpu });
    const old = T.zeros([2, 3], { device: cpu });
    const f = (logp: T.Tensor) => clippedSurrogate(logp, old, advantages, clip);
    expect(await gradCheck(cpu, f, [logRatio], [[2, 3]], 1e-3)).toBeLessThan(1e-2);
  });
});
