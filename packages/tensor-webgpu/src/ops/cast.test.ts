import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { gpu, cpu } = await testDevices();
const backends = gpu ? [gpu] : [cpu];

const _ids = (dev: Device, values: number[], shape?: number[]) =>
  T.tensor(Int32Array.from(values), { device: dev, shape });

const _values = smoothValues;

async function agree(fn: (dev: Device) => Tensor, tol = 1e-6): Promise<void> {
  for (const dev of backends) {
    const [got, want] = await Promise.all([fn(dev).data(), fn(cpu).data()]);
    expect(maxRelError(got, want)).toBeLessThanOrEqual(tol);
  }
}

describe('cast', () => {
  it('casts between f32, i32 and f16', async () => {
    for (const dev of [...backends, cpu]) {
      expect(await T.cast(T.tensor([1.7, -1.7, 3], { device: dev }), 'i32').toArray()).toEqual([
        1, -1, 3,
      ]);
      expect(
        await T.cast(T.tensor(Int32Array.from([4, -2]), { device: dev }), 'f32').toArray(),
      ).toEqual([4, -2]);
      const h = T.cast(T.tensor([1 / 3, 65504, 1e-8], { device: dev }), 'f16');
      expect(h.dtype).toBe('f16');
      expect(await h.toArray()).toEqual([0.333251953125, 65504, 0]);
      expect(await T.sum(T.cast(h, 'f32')).item()).toBeCloseTo(65504.333, 2);
    }
  });

  it('f16 arithmetic on the GPU matches the CPU reference', async () => {
    await agree(
      (dev) => T.cast(T.mul(T.cast(T.randn([1000], { device: dev, seed: 1 }), 'f16'), 3), 'f32'),
      1e-3,
    );
    await agree(
      (dev) => T.cast(T.softmax(T.cast(T.randn([4, 100], { device: dev, seed: 1 }), 'f16')), 'f32'),
      2e-3,
    );
  });
});
