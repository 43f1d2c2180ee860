import { entropyFromLogits, ppoLoss, ppoRewards } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { B, T: L, V } = fx.inputs;

describe.each(all)('PPO ($info.backend)', (dev) => {
  const mask = t(dev, fx.inputs.mask, [B, L]);

  for (const estimator of ['k1', 'k3'] as const) {
    it(`ppoRewards (${estimator}): −β·KL per token plus the score at the last completion token`, async () => {
      const out = ppoRewards(
        t(dev, fx.inputs.logp, [B, L]),
        t(dev, fx.inputs.ref, [B, L]),
        t(dev, fx.inputs.scores, [B]),
        mask,
        { klCoef: fx.ppo.klCoef, estimator },
      );
      expect(maxRelError(await out.rewards.data(), fx.ppo[`rewards_${estimator}`])).toBeLessThan(
        1e-5,
      );
      expect(maxRelError(await out.kl.data(), fx.ppo[`kl_${estimator}`])).toBeLessThan(1e-5);
    });
  }

  it("ppoLoss matches TRL PPOTrainer's loss (PyTorch) with an entropy bonus: value, gradients, statistics", async () => {
    const want = fx.ppo.loss;
    const logprobs = t(dev, fx.inputs.logp, [B, L]).requiresGrad_();
    const values = t(dev, fx.inputs.values, [B, L]).requiresGrad_();
    const logits = t(dev, fx.inputs.logits, [B, L, V]).requiresGrad_();
    const out = ppoLoss(
      {
        logprobs,
        oldLogprobs: t(dev, fx.inputs.old, [B, L]),
        advantages: t(dev, fx.ppo.whitened, [B, L]),
        values,
        oldValues: t(dev, fx.inputs.oldValues, [B, L]),
        returns: t(dev, fx.ppo.returns, [B, L]),
        mask,
        entropy: entropyFromLogits(logits),
      },
      {
        cliprange: fx.ppo.cliprange,
        cliprangeValue: fx.ppo.cliprangeValue,
        vfCoef: fx.ppo.vfCoef,
        entropyCoef: fx.ppo.entropyCoef,
      },
    );
    for (const key of [
      'loss',
      'policyLoss',
      'valueLoss',
      'entropy',
      'clipFraction',
      'valueClipFraction',
      'approxKl',
    ] as const)
      expect(await out[key]!.item(), key).toBeCloseTo(want[key], 5);
    out.loss.backward();
    expect(maxRelError(await logprobs.grad!.data(), want.gradLogp)).toBeLessThan(1e-5);
    expect(maxRelError(await values.grad!.data(), want.gradValues)).toBeLessThan(1e-5);
    expect(maxRelError(await logits.grad!.data(), want.gradLogits)).toBeLessThan(1e-5);
  });
});

describe('PPO: errors', () => {
  const x = T.zeros([2, 3], { device: cpu });
  it('ppoRewards wants klCoef and a known estimator', () => {
    // @ts-expect-error: options are required
    expect(() => ppoRewards(x, x, T.zeros([2], { device: cpu }), x)).toThrow(
      /ppoRewards: klCoef must be/,
    );
    expect(() =>
      // @ts-expect-error: k2 is biased, PPO takes k1 or k3
      ppoRewards(x, x, T.zeros([2], { device: cpu }), x, { klCoef: 0.1, estimator: 'k2' }),
    ).toThrow(/estimator must be one of 'k1', 'k3'/);
  });

  it('ppoLoss names a missing input and an entropy bonus without entropy', () => {
    const inputs = {
      logprobs: x,
      oldLogprobs: x,
      advantages: x,
      values: x,
      oldValues: x,
      returns: x,
      mask: x,
    };
    // @ts-expect-error: returns missing
    expect(() => ppoLoss({ ...inputs, returns: undefined })).toThrow(
      /ppoLoss: returns must be a \[B, T\] f32 tensor, got undefined/,
    );
    expect(() => ppoLoss(inputs, { entropyCoef: 0.01 })).toThrow(
      /entropyCoef 0.01 needs inputs.entropy/,
    );
  });
});
