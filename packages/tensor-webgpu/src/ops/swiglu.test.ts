import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { agree, backends, cpu, rnd } from '../test-utils/agree.js';

const values = smoothValues;

describe('swiglu', () => {
  it('equals silu(gate)·up, forward and backward, on both backends', async () => {
    for (const dev of [...backends, cpu]) {
      const gate = rnd(dev, [5, 130], 1, 4).requiresGrad_();
      const up = rnd(dev, [5, 130], 2).requiresGrad_();
      const w = rnd(dev, [5, 130], 3);
      const y = T.swiglu(gate, up);
      T.sum(T.mul(y, w)).backward();
      const [g2, u2] = [gate.detach().requiresGrad_(), up.detach().requiresGrad_()];
      const want = T.mul(T.silu(g2), u2);
      T.sum(T.mul(want, w)).backward();
      expect(maxRelError(await y.data(), await want.data())).toBeLessThan(1e-5);
      expect(maxRelError(await gate.grad!.data(), await g2.grad!.data())).toBeLessThan(1e-5);
      expect(maxRelError(await up.grad!.data(), await u2.grad!.data())).toBeLessThan(1e-5);
    }
    // Strided (transposed) inputs are read in place.
    await agree((dev) => T.swiglu(T.transpose(rnd(dev, [7, 3], 1)), rnd(dev, [3, 7], 2)));
  });

  it('gradients match finite differences; mismatched inputs are refused', async () => {
    expect(
      await gradCheck(
        cpu,
        T.swiglu,
        [values(12, 1, -4, 4), values(12, 2)],
        [
          [3, 4],
          [3, 4],
        ],
      ),
    ).toBeLessThan(2e-2);
    expect(() =>
      T.swiglu(T.zeros([2, 3], { device: cpu }), T.zeros([3, 2], { device: cpu })),
    ).toThrow(/swiglu: gate \[2, 3\] and up \[3, 2\] must have the same shape/);
  });
});
