import { rewardModelLoss } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();

describe.each(all)('rewardModelLoss ($info.backend)', (dev) => {
  const cases = {
    plain: {},
    margin: { margin: t(dev, fx.inputs.margin, [5]) },
    center: { centerRewardsCoefficient: 0.01 },
  };
  for (const [name, options] of Object.entries(cases)) {
    it(`${name}: matches TRL RewardTrainer's loss (PyTorch), gradients and statistics`, async () => {
      const want = fx.reward[name];
      const chosen = t(dev, fx.inputs.rc, [5]).requiresGrad_();
      const rejected = t(dev, fx.inputs.rr, [5]).requiresGrad_();
      const out = rewardModelLoss(chosen, rejected, options);
      expect(await out.loss.item()).toBeCloseTo(want.loss, 6);
      out.loss.backward();
      expect(maxRelError(await chosen.grad!.data(), want.gradChosen)).toBeLessThan(1e-5);
      expect(maxRelError(await rejected.grad!.data(), want.gradRejected)).toBeLessThan(1e-5);
      expect(await out.accuracy.item()).toBeCloseTo(want.accuracy, 6);
      expect(await out.margin.item()).toBeCloseTo(want.margin, 6);
    });
  }
});

describe('rewardModelLoss: errors and gradients', () => {
  it('a number margin equals the same margin as a tensor', async () => {
    const c = T.tensor([1, 2], { device: cpu });
    const r = T.tensor([0.5, 2.5], { device: cpu });
    const asNumber = await rewardModelLoss(c, r, { margin: 0.3 }).loss.item();
    const asTensor = await rewardModelLoss(c, r, {
      margin: T.tensor([0.3, 0.3], { device: cpu }),
    }).loss.item();
    expect(asNumber).toBeCloseTo(asTensor, 7);
  });

  it('rejects mismatched pairs and unknown options', () => {
    const c = T.zeros([3], { device: cpu });
    expect(() => rewardModelLoss(c, T.zeros([2], { device: cpu }))).toThrow(
      /rewardModelLoss: rejectedRewards has B = 2/,
    );
    // @ts-expect-error: misspelt option
    expect(() => rewardModelLoss(c, c, { margins: 1 })).toThrow(/unknown option "margins"/);
  });

  it('gradient matches finite differences', async () => {
    const f = (c: T.Tensor, r: T.Tensor) =>
      rewardModelLoss(c, r, { margin: 0.2, centerRewardsCoefficient: 0.1 }).loss;
    expect(
      await gradCheck(cpu, f, [smoothValues(4, 6), smoothValues(4, 7)], [[4], [4]]),
    ).toBeLessThan(1e-2);
  });
});
