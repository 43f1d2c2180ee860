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
