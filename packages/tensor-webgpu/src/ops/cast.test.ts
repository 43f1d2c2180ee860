import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { cpu, all, underTest } = await testDevices();
const backends = underTest.length > 0 ? underTest : [cpu];

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

describe.each(all)('float to integer: truncate, saturate, NaN → 0 ($info.backend)', (dev) => {
  // PyTorch leaves these cases undefined (C++ undefined behaviour); Tessera follows WGSL's rule
  // on every backend.
  const floats = [Number.NaN, Infinity, -Infinity, 3e9, -3e9, 2.7, -2.7, 2147483520];
  const asI32 = [0, 2147483647, -2147483648, 2147483647, -2147483648, 2, -2, 2147483520];
  const asU32 = [0, 4294967295, 0, 3000000000, 0, 2, 0, 2147483520];

  it('cast', async () => {
    const x = T.tensor(floats, { device: dev });
    expect(Array.from(await T.cast(x, 'i32').data())).toEqual(asI32);
    expect(Array.from(await T.cast(x, 'u32').data())).toEqual(asU32);
  });

  it('tensors created from numbers follow the same rule', async () => {
    expect(Array.from(await T.tensor(floats, { device: dev, dtype: 'i32' }).data())).toEqual(asI32);
    expect(Array.from(await T.tensor(floats, { device: dev, dtype: 'u32' }).data())).toEqual(asU32);
  });

  it('i32 and u32 convert by keeping the bits', async () => {
    const x = T.tensor(Int32Array.from([-1, 5]), { device: dev });
    expect(Array.from(await T.cast(x, 'u32').data())).toEqual([4294967295, 5]);
    expect(Array.from(await T.cast(T.cast(x, 'u32'), 'i32').data())).toEqual([-1, 5]);
  });
});
