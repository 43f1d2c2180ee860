import { maskedMean, maskedSum, sequenceMean, sequenceSum } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { B, T: L } = fx.inputs;

describe.each(all)('masked reductions ($info.backend)', (dev) => {
  const x = t(dev, fx.inputs.advTok, [B, L]);
  const mask = t(dev, fx.inputs.mask, [B, L]);

  it('match the PyTorch fixture', async () => {
    expect(await maskedSum(x, mask).item()).toBeCloseTo(fx.masked.sum, 5);
    expect(await maskedMean(x, mask).item()).toBeCloseTo(fx.masked.mean, 5);
    expect(maxRelError(await sequenceSum(x, mask).data(), fx.masked.sequenceSum)).toBeLessThan(
      1e-6,
    );
    expect(maxRelError(await sequenceMean(x, mask).data(), fx.masked.sequenceMean)).toBeLessThan(
      1e-6,
    );
  });

  it('give 0, not NaN, where the mask keeps no token', async () => {
    const empty = T.zeros([2, 3], { device: dev });
    const ones = T.ones([2, 3], { device: dev });
    expect(await maskedMean(ones, empty).item()).toBe(0);
    expect(Array.from(await sequenceMean(ones, empty).data())).toEqual([0, 0]);
  });
});

describe('masked reductions: errors and gradients', () => {
  it('name the argument and the shapes', () => {
    const x = T.zeros([2, 3], { device: cpu });
    expect(() => maskedMean(x, T.zeros([2, 4], { device: cpu }))).toThrow(
      /maskedMean: mask has T = 4 \(shape \[2, 4\] f32\), but T = 3/,
    );
    expect(() => sequenceSum(T.zeros([6], { device: cpu }), x)).toThrow(
      /sequenceSum: x must have shape \[B, T\] f32, got \[6\] f32/,
    );
    expect(() => maskedSum(x, T.zeros([2, 3], { device: cpu, dtype: 'i32' }))).toThrow(TypeError);
  });

  it('are differentiable in x', async () => {
    const mask = [1, 1, 0, 1, 0, 0];
    for (const f of [maskedSum, maskedMean, sequenceSum, sequenceMean]) {
      const g = (x: T.Tensor) => f(x, T.tensor(mask, { device: cpu, shape: [2, 3] }));
      expect(await gradCheck(cpu, g, [smoothValues(6, 1)], [[2, 3]])).toBeLessThan(1e-2);
    }
  });
});
