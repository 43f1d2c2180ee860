import { AdamW, warmupCosine } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
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

const { all } = await testDevices();

describe.each(all)('AdamW ($info.backend)', (dev) => {
  it('follows torch.optim.AdamW over 20 steps', async () => {
    const got = await trajectory(
      dev,
      (p) => new AdamW(p, { lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 }),
    );
    expectTrajectory(got, fx.adamw, 1e-5);
  });

  it('keeps a step count per parameter: the issue 13.5 case gives PyTorch 1.13 values', async () => {
    // A has a gradient at steps 1 and 2, B only at step 2: B's bias correction is its first.
    const [a, b] = [
      T.ones([1], { device: dev, requiresGrad: true }),
      T.ones([1], { device: dev, requiresGrad: true }),
    ];
    const opt = new AdamW([a, b], fx.issue_13_5.options);
    a.grad = T.tensor([0.5], { device: dev });
    opt.step();
    opt.zeroGrad();
    a.grad = T.tensor([0.5], { device: dev });
    b.grad = T.tensor([0.5], { device: dev });
    opt.step();
    expect(maxRelError(await a.data(), fx.issue_13_5.params[0])).toBeLessThan(1e-6);
    expect(maxRelError(await b.data(), fx.issue_13_5.params[1])).toBeLessThan(1e-6);
    expect(opt.stateDict().paramSteps).toEqual([2, 1]);
  });

  for (const fused of [true, false]) {
    it(`parameters that miss steps follow PyTorch, with weight decay (fused: ${fused})`, async () => {
      const run = fx.missed_steps.adamw;
      const params = givenParams(dev, fx.missed_steps.data);
      const opt = new AdamW(params, { ...run.options, fused });
      const { values } = await replay(opt, params, fx.missed_steps.data);
      expectReplay(values, run.params, 1e-5);
    });
  }

  it('follows a warmup-cosine schedule: the rates used equal the schedule, the values PyTorch', async () => {
    const run = fx.schedules.adamw;
    const params = givenParams(dev, run.data);
    const [first, ...rest] = params;
    const opt = new AdamW([{ params: [first!] }, { params: rest }], {
      ...run.options,
      lr: warmupCosine(run.warmupCosine),
    });
    const { values, lastLR } = await replay(opt, params, run.data);
    expect(lastLR).toHaveLength(10);
    lastLR.forEach((groups, k) => {
      for (const g of groups) expect(g.lr).toBeCloseTo(run.lrs[k], 12);
    });
    expectReplay(values, run.params, 1e-5);
  });

  it('fused and unfused updates agree', async () => {
    const a = await trajectory(dev, (p) => new AdamW(p, { lr: 0.05, fused: true }), 5);
    const b = await trajectory(dev, (p) => new AdamW(p, { lr: 0.05, fused: false }), 5);
    for (let i = 0; i < 5; i++) expect(maxRelError(a[i]!.w, b[i]!.w)).toBeLessThan(1e-5);
  });

  it('trains a 2-layer MLP on a toy task below 0.05', async () => {
    expect(await trainMlp(dev, (p) => new AdamW(p, { lr: 0.01 }))).toBeLessThan(0.05);
  });
});

describe('AdamW options', () => {
  it('bad values and unknown keys are errors naming the option', () => {
    const p = [T.zeros([1], { device: all.at(-1), requiresGrad: true })];
    expect(() => new AdamW(p, { lr: -1 })).toThrow(
      /AdamW: lr must be a finite number >= 0 or a schedule, got -1/,
    );
    expect(() => new AdamW(p, { lr: 1, betas: [1, 0.9] })).toThrow(
      /AdamW: betas must be in \[0, 1\), got \[1, 0\.9\]/,
    );
    expect(() => new AdamW(p, { lr: 1, eps: 0 })).toThrow(/AdamW: eps must be > 0, got 0/);
    expect(() => new AdamW(p, { lr: 1, beta1: 0.9 } as never)).toThrow(
      /AdamW: unknown option "beta1" \(known options: lr, weightDecay, betas, eps, fused\)/,
    );
    expect(() => new AdamW([{ params: p, weight_decay: 0 } as never], { lr: 1 })).toThrow(
      /AdamW: groups\[0\]: unknown option "weight_decay"/,
    );
  });
});
