import { clipGradNorm } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

describe('clipGradNorm', () => {
  it.each(all)(
    'clipGradNorm scales the global norm down to maxNorm ($info.backend)',
    async (dev) => {
      const a = T.zeros([2], { device: dev, requiresGrad: true });
      const b = T.zeros([1], { device: dev, requiresGrad: true });
      a.grad = T.tensor([3, 0], { device: dev });
      b.grad = T.tensor([4], { device: dev });
      const norm = clipGradNorm([a, b], 1);
      expect(await norm.item()).toBeCloseTo(5, 5);
      expect(Array.from(await a.grad.data()).map((v) => Number(v.toFixed(5)))).toEqual([0.6, 0]);
      expect(await b.grad.item()).toBeCloseTo(0.8, 5);
      expect(await clipGradNorm([a, b], 10).item()).toBeCloseTo(1, 5);
      expect(await b.grad.item()).toBeCloseTo(0.8, 5);
      // More parameters than one kernel binds, an f16 gradient among them: Σ sizes · 2².
      const many = Array.from({ length: 11 }, (_, i) => {
        const p = T.zeros([i + 1], { device: dev, requiresGrad: true });
        p.grad = T.full([i + 1], 2, { device: dev, dtype: i === 4 ? 'f16' : 'f32' });
        return p;
      });
      expect(await clipGradNorm(many, 1e6).item()).toBeCloseTo(Math.sqrt(66 * 4), 4);
    },
  );

  it('rejects a bad maxNorm and parameters without gradients', () => {
    const p = T.zeros([2], { device: cpu, requiresGrad: true });
    expect(() => clipGradNorm([p], 0)).toThrow(/clipGradNorm: maxNorm must be > 0, got 0/);
    expect(() => clipGradNorm([p], 1)).toThrow(/clipGradNorm: no parameter has a gradient/);
  });
});
