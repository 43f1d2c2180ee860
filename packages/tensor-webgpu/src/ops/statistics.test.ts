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

describe('variance', () => {
  it('variance with the unbiased correction matches a float64 computation', async () => {
    const x = T.randn([3, 50], { device: cpu, seed: 1 });
    const rows = (await x.toArray()) as number[][];
    const want = rows.map((r) => {
      const m = r.reduce((a, b) => a + b, 0) / r.length;
      return r.reduce((a, b) => a + (b - m) ** 2, 0) / (r.length - 1);
    });
    expect(maxRelError(await T.variance(x, 1).data(), want)).toBeLessThan(1e-5);
    await agree(
      (dev) => T.variance(T.randn([3, 50], { device: dev, seed: 1 }), 0, { correction: 0 }),
      1e-5,
    );
  });
});
