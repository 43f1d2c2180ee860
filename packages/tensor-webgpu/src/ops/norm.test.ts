import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { all, backends, cpu, rnd } from '../test-utils/agree.js';
import { golden } from '../test-utils/golden.js';

const values = smoothValues;

describe('layerNorm and rmsNorm', () => {
  it('WebGPU and wasm equal the CPU reference, forward and backward, with and without affine', async () => {
    const cases: ((dev: Device, x: Tensor) => Tensor)[] = [
      (dev, x) => T.layerNorm(x, T.add(rnd(dev, [300], 2), 1), rnd(dev, [300], 3)),
      (_dev, x) => T.layerNorm(x),
      (dev, x) => T.rmsNorm(x, T.add(rnd(dev, [300], 2), 1)),
    ];
    for (const f of cases) {
      const run = async (dev: Device) => {
        const x = T.add(rnd(dev, [5, 300], 1, 2), 3);
        x.requiresGrad = true;
        const y = f(dev, x);
        T.sum(T.mul(y, rnd(dev, [5, 300], 9))).backward();
        return [await y.data(), await x.grad!.data()];
      };
      for (const dev of backends) {
        const [[y1, g1], [y2, g2]] = [await run(dev), await run(cpu)];
        expect(maxRelError(y1!, y2!)).toBeLessThan(1e-4);
        expect(maxRelError(g1!, g2!)).toBeLessThan(1e-4);
      }
    }
  });

  it('layerNorm output has zero mean and unit variance per row', async () => {
    const y = (await T.layerNorm(T.add(rnd(cpu, [2, 1000], 1, 5), 100)).toArray()) as number[][];
    for (const row of y) {
      const mean = row.reduce((a, b) => a + b, 0) / row.length;
      const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
      expect(Math.abs(mean)).toBeLessThan(1e-4);
      expect(Math.abs(v - 1)).toBeLessThan(1e-3);
    }
  });

  it('gradients of input, weight and bias match finite differences', async () => {
    const ln = (x: Tensor, w: Tensor, b: Tensor) => T.layerNorm(x, w, b);
    expect(
      await gradCheck(
        cpu,
        ln,
        [values(12, 1), values(4, 2, 0.5, 1.5), values(4, 3)],
        [[3, 4], [4], [4]],
      ),
    ).toBeLessThan(2e-2);
    const rms = (x: Tensor, w: Tensor) => T.rmsNorm(x, w);
    expect(
      await gradCheck(cpu, rms, [values(12, 4), values(4, 5, 0.5, 1.5)], [[3, 4], [4]]),
    ).toBeLessThan(2e-2);
  });

  it('names the weight shape it expected', () => {
    expect(() =>
      T.layerNorm(T.zeros([2, 4], { device: cpu }), T.ones([3], { device: cpu })),
    ).toThrow(/weight and bias must have shape \[4\], got \[3\]/);
  });
});

describe.each(all)('agreement with PyTorch ($info.backend)', (dev) => {
  it('layer norm forward and input gradient', async () => {
    const g = golden.layerNorm;
    const x = T.tensor(g.x, { device: dev, shape: [3, 6], requiresGrad: true });
    const y = T.layerNorm(x, T.tensor(g.w, { device: dev }), T.tensor(g.b, { device: dev }));
    const weights = Array.from({ length: 18 }, (_, i) => Math.sin(i * 0.37 + 0.9));
    T.sum(T.mul(y, T.tensor(weights, { device: dev, shape: [3, 6] }))).backward();
    expect(maxRelError(await y.data(), g.y)).toBeLessThan(1e-5);
    expect(maxRelError(await x.grad!.data(), g.dx)).toBeLessThan(1e-4);
  });
});
