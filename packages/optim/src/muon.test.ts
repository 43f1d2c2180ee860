import { Muon, muonParamGroups, warmupCosine, warmupStableDecay } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import {
  expectReplay,
  expectTrajectory,
  fx,
  type GivenData,
  givenParams,
  replay,
  trainMlp,
  trajectory,
} from './test-utils/fixtures.js';

const { all, cpu } = await testDevices();

/** M [4, 3] by Newton–Schulz and v [3] by AdamW in one group; E [5, 3] in a `useAdamW` group. */
function groups(dev: T.Device, data: GivenData) {
  const params = givenParams(dev, data);
  const [m, v, e] = params;
  return { params, groups: [{ params: [m!, v!] }, { params: [e!], useAdamW: true }] };
}

// Muon is not in torch 1.13: make_fixtures.py writes it from the reference with torch ops, and
// its AdamW part is torch.optim.AdamW.
describe.each(all)('Muon ($info.backend)', (dev) => {
  it('follows the reference over 20 steps', async () => {
    const make = (p: T.Tensor[]) =>
      new Muon(p, {
        lr: 0.02,
        momentum: 0.95,
        nesterov: true,
        weightDecay: 0.01,
        adamw: { lr: 0.01, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.01 },
      });
    expectTrajectory(await trajectory(dev, make), fx.muon, 1e-4);
  });

  it('parameters that miss steps keep their momentum and AdamW step counts', async () => {
    const run = fx.missed_steps.muon;
    const { params, groups: g } = groups(dev, run.data);
    const { values } = await replay(new Muon(g, run.options), params, run.data);
    expectReplay(values, run.params, 1e-4);
  });

  it('matrices follow lr and the AdamW part its own schedule: rates used and values', async () => {
    const run = fx.schedules.muon;
    const { params, groups: g } = groups(dev, run.data);
    const opt = new Muon(g, {
      ...run.options,
      lr: warmupCosine(run.warmupCosine),
      adamw: { ...run.options.adamw, lr: warmupStableDecay(run.adamwWarmupStableDecay) },
    });
    const { values, lastLR } = await replay(opt, params, run.data);
    expect(lastLR).toHaveLength(10);
    lastLR.forEach(([mixed, adamOnly], k) => {
      expect(Object.keys(mixed!).sort()).toEqual(['adamw.lr', 'lr']);
      expect(mixed!.lr).toBeCloseTo(run.lrs[k], 12);
      expect(mixed!['adamw.lr']).toBeCloseTo(run.adamwLrs[k], 12);
      expect(adamOnly).toEqual({ 'adamw.lr': mixed!['adamw.lr'] });
    });
    expectReplay(values, run.params, 1e-4);
  });

  it('trains a 2-layer MLP on a toy task below 0.05', async () => {
    const make = (p: T.Tensor[]) => new Muon(p, { lr: 0.02, adamw: { lr: 0.01 } });
    expect(await trainMlp(dev, make)).toBeLessThan(0.05);
  });
});

describe('Muon options and groups', () => {
  const p = () => [T.zeros([2, 2], { device: cpu, requiresGrad: true })];

  it('bad values and unknown keys, nested ones too, are errors naming the option', () => {
    expect(() => new Muon(p(), { lr: 1, scale: 'x' as never })).toThrow(
      /Muon: scale must be 'spectral' or 'rms', got "x"/,
    );
    expect(() => new Muon(p(), { lr: 1, nsSteps: 0 })).toThrow(
      /Muon: nsSteps must be a positive integer, got 0/,
    );
    expect(() => new Muon(p(), { lr: 1, adamw: { betas: [0.9, 1.5] } })).toThrow(
      /Muon: adamw\.betas must be in \[0, 1\), got \[0\.9, 1\.5\]/,
    );
    expect(() => new Muon(p(), { lr: 1, adamw: { lr: -2 } })).toThrow(
      /Muon: adamw\.lr must be a finite number >= 0 or a schedule, got -2/,
    );
    expect(() => new Muon(p(), { lr: 1, adamw: { fused: false } as never })).toThrow(
      /Muon: adamw: unknown option "fused" \(known options: lr, betas, eps, weightDecay\)/,
    );
    expect(() => new Muon(p(), { lr: 1, adamW: {} } as never)).toThrow(
      /Muon: unknown option "adamW"/,
    );
  });

  it('muonParamGroups sends hidden matrices to Muon and the rest to AdamW', () => {
    const t = (shape: number[]) => T.zeros(shape, { device: cpu });
    const [muon, adam] = muonParamGroups([
      ['model.embed_tokens.weight', t([10, 4])],
      ['model.layers.0.q_proj.weight', t([4, 4])],
      ['model.layers.0.norm.weight', t([4])],
      ['lm_head.weight', t([10, 4])],
    ]);
    expect(muon.params.map((x) => x.shape)).toEqual([[4, 4]]);
    expect(adam.params.map((x) => x.shape)).toEqual([[10, 4], [4], [10, 4]]);
    expect(adam.useAdamW).toBe(true);
  });
});
