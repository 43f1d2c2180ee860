import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { cpu, underTest } = await testDevices();
const backends = underTest.length > 0 ? underTest : [cpu];

async function agree(fn: (dev: Device) => Tensor, tol = 1e-6): Promise<void> {
  for (const dev of backends) {
    const [got, want] = await Promise.all([fn(dev).data(), fn(cpu).data()]);
    expect(maxRelError(got, want)).toBeLessThanOrEqual(tol);
  }
}

describe('dropout', () => {
  it('the same seed gives the same mask on every backend, with the right rate and scale', async () => {
    await agree((dev) => T.dropout(T.ones([10007], { device: dev }), 0.3, { seed: 99 }));
    const y = Array.from(
      await T.dropout(T.ones([20000], { device: cpu }), 0.3, { seed: 1 }).data(),
    );
    const kept = y.filter((v) => v !== 0);
    expect(Math.abs(kept.length / y.length - 0.7)).toBeLessThan(0.02);
    expect(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
  });

  it('dropout backward uses the forward mask; eval mode is the identity', async () => {
    const x = T.ones([100], { device: cpu, requiresGrad: true });
    const y = T.dropout(x, 0.5, { seed: 7 });
    T.sum(y).backward();
    expect(Array.from(await x.grad!.data())).toEqual(Array.from(await y.data()));
    expect(
      await T.dropout(T.ones([3], { device: cpu }), 0.9, { training: false }).toArray(),
    ).toEqual([1, 1, 1]);
    expect(() => T.dropout(x, 1)).toThrow(/p must be in \[0, 1\), got 1/);
  });
});
