import type { Device } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { agree, backends, cpu, rnd } from '../test-utils/agree.js';

describe('matmul', () => {
  it('equals a float64 triple loop on odd sizes', async () => {
    const [m, k, n] = [67, 45, 130];
    const a = rnd(cpu, [m, k], 1);
    const b = rnd(cpu, [k, n], 2);
    const [ad, bd] = [await a.data(), await b.data()];
    const want = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += ad[i * k + p]! * bd[p * n + j]!;
        want[i * n + j] = s;
      }
    for (const dev of [...backends, cpu])
      for (const kernel of ['tiled', 'register'] as const) {
        const got = await T.matmul(
          T.tensor(ad, { device: dev, shape: [m, k] }),
          T.tensor(bd, { device: dev, shape: [k, n] }),
          { kernel },
        ).data();
        expect(maxRelError(got, want)).toBeLessThan(1e-5);
      }
  });

  it('reads transposed operands in place and broadcasts batches', async () => {
    for (const kernel of ['tiled', 'register'] as const) {
      await agree(
        (dev) =>
          T.matmul(T.transpose(rnd(dev, [2, 1, 33, 17], 1)), rnd(dev, [3, 33, 70], 2), { kernel }),
        1e-5,
      );
      await agree(
        (dev) => T.matmul(rnd(dev, [130, 9], 1), T.transpose(rnd(dev, [200, 9], 2)), { kernel }),
        1e-5,
      );
    }
    expect(T.matmul(rnd(cpu, [2, 1, 4, 5], 1), rnd(cpu, [3, 5, 6], 2)).shape).toEqual([2, 3, 4, 6]);
  });

  it('the register kernel shrinks its thread tile for small outputs and stays exact', async () => {
    // 1, 2, 4 and 8 rows per thread; 1, 2 and 4 columns; edges inside and outside a tile; with
    // A handed round by subgroup broadcasts and (as on adapters without subgroups) without.
    for (const dev of backends) {
      const subgroups = dev.info.subgroups;
      try {
        for (const sg of [true, false]) {
          dev.info.subgroups = sg && subgroups;
          for (const m of [1, 5, 17, 40, 67, 130])
            for (const n of [1, 9, 20, 33, 70]) {
              const run = (d: Device) =>
                T.matmul(T.transpose(rnd(d, [21, m], 1)), rnd(d, [21, n], 2), {
                  kernel: 'register',
                });
              const [got, want] = [await run(dev).data(), await run(cpu).data()];
              expect(maxRelError(got, want)).toBeLessThan(1e-5);
            }
        }
      } finally {
        dev.info.subgroups = subgroups;
      }
    }
  });

  it('split-K sums partial products over slices of K to the same result', async () => {
    for (const kernel of ['tiled', 'register'] as const)
      for (const splitK of [2, 8]) {
        await agree(
          (dev) =>
            T.matmul(T.transpose(rnd(dev, [2048, 40], 1)), rnd(dev, [2048, 24], 2), {
              kernel,
              splitK,
            }),
          // Sums of 2,048 products of order 45: float32 rounding, summed in another order.
          2e-4,
        );
      }
    for (const dev of backends) {
      const a = rnd(dev, [40, 2048], 1);
      const b = rnd(dev, [2048, 24], 2);
      const whole = await T.matmul(a, b).data();
      // The split really happens: one batched product, then a reduction over the slices.
      const profile = await dev.profile(() => T.matmul(a, b, { splitK: 4 }));
      expect(profile.kernels.map((k) => k.name.split(':')[0]).sort()).toEqual(
        expect.arrayContaining(['matmul', dev.backend === 'webgpu' ? 'reduce' : 'reduce_rows']),
      );
      expect(maxRelError(await T.matmul(a, b, { splitK: 4 }).data(), whole)).toBeLessThan(2e-4);
    }
    const a = T.zeros([4, 100], { device: cpu });
    const b = T.zeros([100, 4], { device: cpu });
    expect(() => T.matmul(a, b, { splitK: 3 })).toThrow(
      /matmul: splitK 3 does not divide the inner dimension 100/,
    );
    expect(() => T.matmul(a, b, { splitK: 0 })).toThrow(
      /splitK must be 'auto' or a positive integer, got 0/,
    );
  });

  it('folds a batch of rows times a matrix into one product, and its gradient into one matmul', async () => {
    for (const dev of [...backends, cpu]) {
      const x = rnd(dev, [4, 16, 24], 1).requiresGrad_();
      const w = rnd(dev, [24, 10], 2).requiresGrad_();
      const y = T.matmul(x, w);
      expect(y.shape).toEqual([4, 16, 10]);
      const loss = T.sum(T.mul(y, y));
      const profile = await dev.profile(() => loss.backward());
      // Gradients of x and w: one matmul each, and no reduction over the batch for w.
      const calls = (prefix: string) =>
        profile.kernels.reduce((n, k) => n + (k.name.startsWith(prefix) ? k.calls : 0), 0);
      expect(calls('matmul')).toBe(2);
      expect(calls('reduce')).toBe(0);
      // Against the same product written batch by batch.
      const want = T.cat(
        [0, 1, 2, 3].map((i) =>
          T.matmul(T.reshape(T.slice(x.detach(), 0, i, i + 1), [16, 24]), w.detach()),
        ),
        0,
      );
      expect(maxRelError(await y.data(), await want.data())).toBeLessThan(1e-5);
    }
    // addmm folds the same way, with a bias row or a full matrix.
    await agree((dev) =>
      T.addmm(rnd(dev, [10], 3), rnd(dev, [4, 16, 24], 1), rnd(dev, [24, 10], 2)),
    );
    await agree((dev) =>
      T.addmm(rnd(dev, [16, 10], 3), rnd(dev, [4, 16, 24], 1), rnd(dev, [24, 10], 2)),
    );
  });

  it('computes only the gradients an input needs (a frozen weight costs no product)', async () => {
    for (const dev of [...backends, cpu]) {
      const x = rnd(dev, [6, 5], 1).requiresGrad_();
      const frozen = rnd(dev, [5, 4], 2);
      const loss = T.sum(T.square(T.matmul(x, frozen)));
      const profile = await dev.profile(() => loss.backward());
      const products = profile.kernels.filter((k) => k.name.startsWith('matmul'));
      expect(products.reduce((n, k) => n + k.calls, 0)).toBe(1);
      expect(frozen.grad).toBeNull();
      // dL/dx = 2 (x W) Wᵀ
      const want = T.matmul(T.mul(T.matmul(x.detach(), frozen), 2), T.transpose(frozen));
      expect(maxRelError(await x.grad!.data(), await want.data())).toBeLessThan(1e-5);
    }
  });

  it('promotes 1-D operands like PyTorch', () => {
    expect(T.matmul(rnd(cpu, [5], 1), rnd(cpu, [5, 3], 2)).shape).toEqual([3]);
    expect(T.matmul(rnd(cpu, [4, 5], 1), rnd(cpu, [5], 2)).shape).toEqual([4]);
    expect(T.matmul(rnd(cpu, [5], 1), rnd(cpu, [5], 2)).shape).toEqual([]);
  });

  it('names the shapes when inner dimensions differ', () => {
    expect(() =>
      T.matmul(T.zeros([2, 3], { device: cpu }), T.zeros([4, 5], { device: cpu })),
    ).toThrow(/matmul: inner dimensions differ \(\[2, 3\] @ \[4, 5\]: 3 vs 4\)/);
  });
});

describe('addmm (matmul with a fused add)', () => {
  it('beta·e + alpha·(a@b) for a bias row and a full matrix, on both kernels and backends', async () => {
    for (const kernel of ['tiled', 'register'] as const) {
      await agree(
        (dev) =>
          T.addmm(rnd(dev, [70], 3), rnd(dev, [33, 17], 1), rnd(dev, [17, 70], 2), {
            kernel,
            alpha: 0.5,
            beta: -2,
          }),
        1e-5,
      );
      await agree(
        (dev) =>
          T.addmm(
            rnd(dev, [33, 70], 3),
            rnd(dev, [33, 17], 1),
            T.transpose(rnd(dev, [70, 17], 2)),
            { kernel, beta: 3 },
          ),
        1e-5,
      );
      await agree(
        (dev) =>
          T.addmm(T.slice(rnd(dev, [80], 3), 0, 10), rnd(dev, [2, 5, 4], 1), rnd(dev, [4, 70], 2), {
            kernel,
          }),
        1e-5,
      );
    }
    const [a, b, e] = [rnd(cpu, [3, 4], 1), rnd(cpu, [4, 5], 2), rnd(cpu, [5], 3)];
    const want = await T.add(T.mul(e, 2), T.mul(T.matmul(a, b), 0.5)).data();
    expect(maxRelError(await T.addmm(e, a, b, { alpha: 0.5, beta: 2 }).data(), want)).toBeLessThan(
      1e-6,
    );
  });
});
