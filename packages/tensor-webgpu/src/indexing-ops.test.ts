import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { cpu, underTest } = await testDevices();
const backends = underTest.length > 0 ? underTest : [cpu];

const values = smoothValues;

async function agree(fn: (dev: Device) => Tensor, tol = 1e-6): Promise<void> {
  for (const dev of backends) {
    const [got, want] = await Promise.all([fn(dev).data(), fn(cpu).data()]);
    expect(maxRelError(got, want)).toBeLessThanOrEqual(tol);
  }
}

describe('cat and stack', () => {
  it('cat along any dim, including more inputs than one kernel binds', async () => {
    await agree((dev) =>
      T.cat(
        [
          T.randn([2, 3, 4], { device: dev, seed: 1 }),
          T.randn([2, 5, 4], { device: dev, seed: 2 }),
        ],
        1,
      ),
    );
    await agree((dev) =>
      T.cat(
        Array.from({ length: 10 }, (_, k) => T.full([1, 2], k, { device: dev })),
        0,
      ),
    );
    const parts = Array.from({ length: 10 }, (_, k) => T.full([1, 2], k, { device: cpu }));
    expect(await T.cat(parts, 0).toArray()).toEqual(Array.from({ length: 10 }, (_, k) => [k, k]));
  });

  it('stack adds a dimension; gradients split back', async () => {
    expect(
      T.stack([T.zeros([2, 3], { device: cpu }), T.ones([2, 3], { device: cpu })], 1).shape,
    ).toEqual([2, 2, 3]);
    const f = (a: Tensor, b: Tensor) => T.cat([a, T.mul(b, b)], -1);
    expect(
      await gradCheck(
        cpu,
        f,
        [values(4, 1), values(6, 2)],
        [
          [2, 2],
          [2, 3],
        ],
      ),
    ).toBeLessThan(2e-2);
  });

  it('names the mismatched tensor', () => {
    expect(() =>
      T.cat([T.zeros([2, 3], { device: cpu }), T.zeros([3, 3], { device: cpu })], 1),
    ).toThrow(/cat: tensor 1 has shape \[3, 3\], incompatible with \[2, 3\] outside dimension 1/);
  });
});
