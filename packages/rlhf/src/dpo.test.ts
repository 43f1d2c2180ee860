import { dpoLoss, simpoLoss } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();

describe.each(all)('dpoLoss ($info.backend)', (dev) => {
  const inputs = () => ({
    chosenLogps: t(dev, fx.inputs.pc, [5]).requiresGrad_(),
    rejectedLogps: t(dev, fx.inputs.pr, [5]).requiresGrad_(),
    refChosenLogps: t(dev, fx.inputs.rfc, [5]),
    refRejectedLogps: t(dev, fx.inputs.rfr, [5]),
    chosenLengths: t(dev, fx.inputs.lc, [5]),
    rejectedLengths: t(dev, fx.inputs.lr, [5]),
  });

  for (const name of ['sigmoid', 'cdpo', 'ipo', 'hinge']) {
    it(`${name}: matches TRL's DPO loss (PyTorch), gradients, rewards, margins and accuracy`, async () => {
      const want = fx.dpo[name];
      const x = inputs();
      const out = dpoLoss(x, {
        lossType: want.lossType,
        beta: want.beta,
        labelSmoothing: want.labelSmoothing,
      });
      expect(maxRelError(await out.losses.data(), want.losses)).toBeLessThan(1e-5);
      expect(await out.loss.item()).toBeCloseTo(want.loss, 5);
      out.loss.backward();
      expect(maxRelError(await x.chosenLogps.grad!.data(), want.gradChosen)).toBeLessThan(1e-5);
      expect(maxRelError(await x.rejectedLogps.grad!.data(), want.gradRejected)).toBeLessThan(1e-5);
      expect(maxRelError(await out.chosenRewards.data(), want.chosenRewards)).toBeLessThan(1e-5);
      expect(maxRelError(await out.rejectedRewards.data(), want.rejectedRewards)).toBeLessThan(
        1e-5,
      );
      expect(maxRelError(await out.margins.data(), want.margins)).toBeLessThan(1e-5);
      expect(await out.accuracy.item()).toBeCloseTo(want.accuracy, 6);
    });
  }

  it('is ln 2 at initialisation (policy = reference), with gradient −β/2 per pair', async () => {
    const logps = t(dev, fx.inputs.pc, [5]);
    const chosen = logps.detach().requiresGrad_();
    const rejected = t(dev, fx.inputs.pr, [5]).requiresGrad_();
    const out = dpoLoss(
      {
        chosenLogps: chosen,
        rejectedLogps: rejected,
        refChosenLogps: logps,
        refRejectedLogps: t(dev, fx.inputs.pr, [5]),
      },
      { beta: 0.1 },
    );
    expect(Array.from(await out.losses.data())).toEqual(Array(5).fill(Math.fround(Math.LN2)));
    expect(await out.loss.item()).toBeCloseTo(Math.LN2, 7);
    expect(await out.accuracy.item()).toBe(0);
    out.loss.backward();
    for (const g of await chosen.grad!.data()) expect(g).toBeCloseTo(-0.1 / 2 / 5, 8);
    for (const g of await rejected.grad!.data()) expect(g).toBeCloseTo(0.1 / 2 / 5, 8);
  });
});

describe.each(all)('simpoLoss ($info.backend)', (dev) => {
  it('matches TRL CPOTrainer loss_type="simpo" (PyTorch), gradients and rewards', async () => {
    const want = fx.simpo;
    const chosenLogps = t(dev, fx.inputs.pc, [5]).requiresGrad_();
    const rejectedLogps = t(dev, fx.inputs.pr, [5]).requiresGrad_();
    const out = simpoLoss(
      {
        chosenLogps,
        rejectedLogps,
        chosenLengths: t(dev, fx.inputs.lc, [5]),
        rejectedLengths: t(dev, fx.inputs.lr, [5]),
      },
      { beta: want.beta, gamma: want.gamma, labelSmoothing: want.labelSmoothing },
    );
    expect(maxRelError(await out.losses.data(), want.losses)).toBeLessThan(1e-5);
    out.loss.backward();
    expect(maxRelError(await chosenLogps.grad!.data(), want.gradChosen)).toBeLessThan(1e-5);
    expect(maxRelError(await rejectedLogps.grad!.data(), want.gradRejected)).toBeLessThan(1e-5);
    expect(maxRelError(await out.chosenRewards.data(), want.chosenRewards)).toBeLessThan(1e-5);
    expect(maxRelError(await out.rejectedRewards.data(), want.rejectedRewards)).toBeLessThan(1e-5);
  });
});

describe('preference losses: errors and gradients', () => {
  const x = () => ({
    chosenLogps: T.zeros([2], { device: cpu }),
    rejectedLogps: T.zeros([2], { device: cpu }),
    refChosenLogps: T.zeros([2], { device: cpu }),
    refRejectedLogps: T.zeros([2], { device: cpu }),
  });

  it('reject bad options with the value and what was expected', () => {
    expect(() => dpoLoss(x(), { beta: 0 })).toThrow(
      /dpoLoss: beta must be a finite number > 0, got number 0/,
    );
    expect(() => dpoLoss(x(), { labelSmoothing: 0.5 })).toThrow(
      /labelSmoothing must be a finite number >= 0 and < 0.5/,
    );
    expect(() => dpoLoss(x(), { lossType: 'hinge', labelSmoothing: 0.1 })).toThrow(
      /labelSmoothing applies to lossType 'sigmoid' only, got 'hinge'/,
    );
    expect(() => dpoLoss(x(), { lossType: 'ipo' })).toThrow(
      /lossType 'ipo' needs inputs.chosenLengths/,
    );
    // @ts-expect-error: not a loss type
    expect(() => dpoLoss(x(), { lossType: 'kto' })).toThrow(
      /lossType must be one of 'sigmoid', 'ipo', 'hinge'/,
    );
    expect(() => dpoLoss({ ...x(), refChosenLogps: T.zeros([3], { device: cpu }) })).toThrow(
      /dpoLoss: refChosenLogps has B = 3/,
    );
  });

  it('gradients match finite differences', async () => {
    const ref = T.tensor([-4, -6, -5], { device: cpu });
    const lengths = T.tensor([3, 5, 4], { device: cpu });
    for (const lossType of ['sigmoid', 'ipo', 'hinge'] as const) {
      const f = (c: T.Tensor, r: T.Tensor) =>
        dpoLoss(
          {
            chosenLogps: c,
            rejectedLogps: r,
            refChosenLogps: ref,
            refRejectedLogps: ref,
            chosenLengths: lengths,
            rejectedLengths: lengths,
          },
          { lossType, beta: 0.5, ...(lossType === 'sigmoid' && { labelSmoothing: 0.1 }) },
        ).losses;
      expect(
        await gradCheck(
          cpu,
          f,
          [smoothValues(3, 8, -6, -3), smoothValues(3, 9, -6, -3)],
          [[3], [3]],
        ),
      ).toBeLessThan(1e-2);
    }
    const g = (c: T.Tensor, r: T.Tensor) =>
      simpoLoss({
        chosenLogps: c,
        rejectedLogps: r,
        chosenLengths: lengths,
        rejectedLengths: lengths,
      }).losses;
    expect(
      await gradCheck(
        cpu,
        g,
        [smoothValues(3, 10, -6, -3), smoothValues(3, 11, -6, -3)],
        [[3], [3]],
      ),
    ).toBeLessThan(1e-2);
  });
});
