import { Lion } from '@tessera/optim';
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

// Lion is not in torch 1.13: make_fixtures.py writes it from the paper with torch ops.
describe.each(all)('Lion ($info.backend)', (dev) => {
  it('follows the reference over 20 steps', async () => {
    const make = (p: T.Tensor[]) => new Lion(p, { lr: 0.01, betas: [0.9, 0.99], weightDecay: 0.1 });
    expectTrajectory(await trajectory(dev, make), fx.lion, 1e-5);
  });

  it('parameters that miss steps keep their momentum and decay', async () => {
    const run = fx.missed_steps.lion;
    const params = givenParams(dev, fx.missed_steps.data);
    const { values } = await replay(new Lion(params, run.options), params, fx.missed_steps.data);
    expectReplay(values, run.params, 1e-5);
  });

  it('trains a 2-layer MLP on a toy task below 0.05', async () => {
    expect(await trainMlp(dev, (p) => new Lion(p, { lr: 0.003 }))).toBeLessThan(0.05);
  });
});

describe('Lion options', () => {
  it('bad values and unknown keys are errors naming the option', () => {
    const p = [T.zeros([1], { device: cpu, requiresGrad: true })];
    expect(() => new Lion(p, { lr: 1, betas: [0.9, 1] })).toThrow(
      /Lion: betas must be in \[0, 1\), got \[0\.9, 1\]/,
    );
    expect(() => new Lion(p, { lr: 1, eps: 1e-8 } as never)).toThrow(
      /Lion: unknown option "eps" \(known options: lr, weightDecay, betas\)/,
    );
  });
});
