import { tensor } from '@tessera/tensor-webgpu';
import { gradCheck, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { scale } from '../examples/custom-op.js';

const { all, cpu } = await testDevices();

// The README's defineOp example, run as written.
describe('custom op from the README', () => {
  it.each(all)('runs forward and backward ($info.backend)', async (dev) => {
    const x = tensor([1, -2, 3.5], { device: dev, requiresGrad: true });
    const y = scale(x, 3);
    expect(await y.toArray()).toEqual([3, -6, 10.5]);
    y.sum().backward();
    expect(await x.grad!.toArray()).toEqual([3, 3, 3]);
  });

  it('passes a finite-difference check', async () => {
    expect(await gradCheck(cpu, (x) => scale(x, -1.5), [[0.5, 1, 2]], [[3]])).toBeLessThan(1e-2);
  });
});

describe('buffer reuse while a batch waits for its pipeline', () => {
  it.each(all)(
    'a freed input is not handed to a new tensor before the pending batch runs ($info.backend)',
    async (dev) => {
      // A kernel no one compiled yet: its batch waits for createComputePipelineAsync.
      const factor = 1 + Math.random();
      const a = tensor(
        Array.from({ length: 1000 }, (_, i) => i),
        { device: dev },
      );
      const y = scale(a, factor);
      const pending = dev.sync();
      a.dispose();
      // Same size class as `a`: the pool would hand out a's buffer if it were already free.
      const b = tensor(new Float32Array(1000).fill(-1), { device: dev });
      await pending;
      const got = await y.data();
      expect(got[999]).toBeCloseTo(999 * factor, 2);
      b.dispose();
    },
  );
});
