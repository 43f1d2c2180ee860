import { entropyFromLogits, maskedMean } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { B, T: L, V } = fx.inputs;

describe.each(all)('entropyFromLogits ($info.backend)', (dev) => {
  it('matches the PyTorch fixture, value and gradient', async () => {
    const logits = t(dev, fx.inputs.logits, [B, L, V]).requiresGrad_();
    const h = entropyFromLogits(logits);
    expect(h.shape).toEqual([B, L]);
    expect(maxRelError(await h.data(), fx.entropy.values)).toBeLessThan(1e-5);
    maskedMean(h, t(dev, fx.inputs.mask, [B, L])).backward();
    expect(maxRelError(await logits.grad!.data(), fx.entropy.gradLogits)).toBeLessThan(1e-5);
  });

  it('is ln V for uniform logits and 0 for a near-certain token', async () => {
    const h = entropyFromLogits(
      T.tensor(
        [
          [0, 0, 0, 0],
          [60, 0, 0, 0],
        ],
        { device: dev },
      ),
    );
    const [uniform, certain] = await h.data();
    expect(uniform).toBeCloseTo(Math.log(4), 6);
    expect(certain).toBeCloseTo(0, 6);
  });
});

describe('entropyFromLogits: errors and gradients', () => {
  it('rejects integer tensors', () => {
    expect(() => entropyFromLogits(T.zeros([2, 3], { device: cpu, dtype: 'i32' }))).toThrow(
      /entropyFromLogits: logits must be a floating-point \[\.\.\., V\] tensor, got \[2, 3\] i32/,
    );
  });

  it('gradient matches finite differences', async () => {
    expect(await gradCheck(cpu, entropyFromLogits, [smoothValues(10, 4)], [[2, 5]])).toBeLessThan(
      1e-2,
    );
  });
});
