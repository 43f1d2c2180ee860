import { grpoLoss, type LossType } from '@tessera/grpo';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { B, T: L } = fx.inputs;
const { epsilonLow, epsilonHigh, beta } = fx.loss;

describe.each(all)('grpoLoss ($info.backend)', (dev) => {
  const inputs = () => ({
    logprobs: t(dev, fx.inputs.logp, [B, L]).requiresGrad_(),
    oldLogprobs: t(dev, fx.inputs.old, [B, L]),
    refLogprobs: t(dev, fx.inputs.ref, [B, L]),
    advantages: t(dev, fx.advantages.group, [B]),
    mask: t(dev, fx.inputs.mask, [B, L]),
  });

  for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as LossType[]) {
    it(`${lossType}: loss and gradient match TRL's _compute_loss (PyTorch), β = ${beta}, clip-higher`, async () => {
      const want = fx.loss[lossType];
      const x = inputs();
      const aggregate =
        lossType === 'dapo'
          ? { tokensInBatch: fx.loss.tokensInBatch }
          : {
              accumulationSteps: fx.loss.accumulationSteps,
              ...(lossType === 'dr_grpo' && { maxCompletionLength: fx.loss.maxCompletionLength }),
            };
      const out = grpoLoss(x, { lossType, beta, epsilonLow, epsilonHigh, ...aggregate });
      expect(maxRelError(await out.perTokenLoss.data(), want.perTokenLoss)).toBeLessThan(1e-5);
      expect(maxRelError([await out.loss.item()], [want.loss])).toBeLessThan(1e-5);
      out.loss.backward();
      expect(maxRelError(await x.logprobs.grad!.data(), want.gradLogp)).toBeLessThan(1e-5);
      expect(await out.kl!.item()).toBeCloseTo(fx.loss.kl, 6);
      expect(await out.clip.low.item()).toBeCloseTo(fx.loss.clipLow, 6);
      expect(await out.clip.high.item()).toBeCloseTo(fx.loss.clipHigh, 6);
      expect(await out.clip.region.item()).toBeCloseTo(fx.loss.clipRegion, 6);
    });
  }

  it('β = 0 needs no reference; without old log-probs the ratio is 1 and the gradient −A/|o| per token (grpo)', async () => {
    const logprobs = t(dev, fx.inputs.logp, [B, L]).requiresGrad_();
    const mask = fx.inputs.mask as number[];
    const advantages = fx.advantages.group as number[];
    const out = grpoLoss(
      { logprobs, advantages: t(dev, advantages, [B]), mask: t(dev, mask, [B, L]) },
      { lossType: 'grpo' },
    );
    expect(out.kl).toBeUndefined();
    out.loss.backward();
    const want = mask.map((m, i) => {
      const row = Math.floor(i / L);
      const length = mask.slice(row * L, (row + 1) * L).reduce((a, b) => a + b, 0);
      return (m * -advantages[row]!) / length / B;
    });
    expect(maxRelError(await logprobs.grad!.data(), want)).toBeLessThan(1e-6);
  });
});

describe('grpoLoss: errors and gradients', () => {
  const x = T.zeros([2, 3], { device: cpu });
  const a = T.zeros([2], { device: cpu });
  it('β > 0 without reference log-probs, and unknown options, fail clearly', () => {
    expect(() => grpoLoss({ logprobs: x, advantages: a, mask: x }, { beta: 0.1 })).toThrow(
      /grpoLoss: beta 0.1 > 0 needs inputs.refLogprobs/,
    );
    // @ts-expect-error: TRL's name, not ours
    expect(() => grpoLoss({ logprobs: x, advantages: a, mask: x }, { epsilon_high: 0.28 })).toThrow(
      /unknown option "epsilon_high"/,
    );
    expect(() =>
      grpoLoss({ logprobs: x, advantages: T.zeros([3], { device: cpu }), mask: x }),
    ).toThrow(/advantages has B = 3/);
  });

  it('gradient matches finite differences (dr_grpo, with KL)', async () => {
    const old = T.zeros([2, 3], { device: cpu });
    const ref = T.tensor(
      [
        [0.3, -0.2, 0.1],
        [0.0, 0.4, -0.3],
      ],
      { device: cpu },
    );
    const advantages = T.tensor([0.8, -1.1], { device: cpu });
    const mask = T.tensor(
      [
        [1, 1, 0],
        [1, 1, 1],
      ],
      { device: cpu },
    );
    const f = (logprobs: T.Tensor) =>
      grpoLoss(
        { logprobs, oldLogprobs: old, refLogprobs: ref, advantages, mask },
        { lossType: 'dr_grpo', maxCompletionLength: 4, beta: 0.1, epsilonHigh: 0.28 },
      ).loss;
    // Log-ratios inside, below and above the clip range, away from its edges.
    expect(
      await gradCheck(cpu, f, [[-0.5, 0.1, 0.05, 0.6, -0.05, -0.4]], [[2, 3]], 1e-3),
    ).toBeLessThan(1e-2);
  });
});
