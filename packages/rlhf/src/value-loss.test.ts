import { clippedValueLoss } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { B, T: L } = fx.inputs;

describe.each(all)('clippedValueLoss ($info.backend)', (dev) => {
  it("matches TRL PPOTrainer's vf_loss and vf_clipfrac (PyTorch), with the gradient", async () => {
    const values = t(dev, fx.inputs.values, [B, L]).requiresGrad_();
    const out = clippedValueLoss(
      values,
      t(dev, fx.inputs.oldValues, [B, L]),
      t(dev, fx.ppo.returns, [B, L]),
      t(dev, fx.inputs.mask, [B, L]),
      { cliprangeValue: fx.ppo.cliprangeValue },
    );
    expect(await out.loss.item()).toBeCloseTo(fx.ppo.loss.valueLoss, 6);
    expect(await out.clipFraction.item()).toBeCloseTo(fx.ppo.loss.valueClipFraction, 6);
    // The fixture's gradient is of the PPO total, where the value loss has weight vfCoef.
    T.mul(out.loss, fx.ppo.vfCoef).backward();
    expect(maxRelError(await values.grad!.data(), fx.ppo.loss.gradValues)).toBeLessThan(1e-5);
  });
});

describe('clippedValueLoss', () => {
  it('gradient matches finite differences away from the clip edges', async () => {
    const old = T.tensor([[0, 0, 0]], { device: cpu });
    const returns = T.tensor([[1, -1, 0.5]], { device: cpu });
    const mask = T.ones([1, 3], { device: cpu });
    const f = (v: T.Tensor) =>
      clippedValueLoss(v, old, returns, mask, { cliprangeValue: 0.2 }).loss;
    expect(await gradCheck(cpu, f, [[0.1, -0.5, 0.9]], [[1, 3]], 1e-3)).toBeLessThan(1e-2);
  });

  it('rejects a negative clip range', () => {
    const x = T.zeros([1, 2], { device: cpu });
    expect(() => clippedValueLoss(x, x, x, x, { cliprangeValue: -0.1 })).toThrow(
      /clippedValueLoss: cliprangeValue must be a finite number >= 0/,
    );
  });
});
