import { SGD } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import {
  expectReplay,
  expectTrajectory,
  fx,
  givenParams,
  replay,
  trainMlp,
  trajectory,
} from './test-utils/fixtures.js';

const { all, cpu } = await testDevices();

describe.each(all)('SGD ($info.backend)', (dev) => {
  it('follows torch.optim.SGD with momentum, Nesterov and weight decay over 20 steps', async () => {
    const make = (p: T.Tensor[]) =>
      new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 });
    expectTrajectory(await trajectory(dev, make), fx.sgd, 1e-5);
  });

  it('follows plain torch.optim.SGD over 20 steps', async () => {
    expectTrajectory(await trajectory(dev, (p) => new SGD(p, { lr: 0.1 })), fx.sgd_plain, 1e-5);
  });

  it('parameters that miss steps keep their momentum and decay, as PyTorch', async () => {
    const run = fx.missed_steps.sgd;
    const params = givenParams(dev, fx.missed_steps.data);
    const { values } = await replay(new SGD(params, run.options), params, fx.missed_steps.data);
    expectReplay(values, run.params, 1e-5);
  });

  it('trains a 2-layer MLP on a toy task below 0.05', async () => {
    expect(await trainMlp(dev, (p) => new SGD(p, { lr: 0.1, momentum: 0.9 }))).toBeLessThan(0.05);
  });
});

describe('SGD options', () => {
  it('bad values and unknown keys are errors naming the option', () => {
    const p = [T.zeros([1], { device: cpu, requiresGrad: true })];
    expect(() => new SGD(p, { lr: 1, nesterov: true })).toThrow(/SGD: nesterov needs momentum > 0/);
    expect(() => new SGD(p, { lr: 1, momentum: 1 })).toThrow(
      /SGD: momentum must be in \[0, 1\), got 1/,
    );
    expect(() => new SGD(p, { lr: 1, dampening: 0 } as never)).toThrow(
      /SGD: unknown option "dampening" \(known options: lr, weightDecay, momentum, nesterov\)/,
    );
  });
});
