import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { cpu, underTest } = await testDevices();
// Each op runs on WebGPU and on the CPU reference; the two must agree.
const backends = underTest.length > 0 ? underTest : [cpu];

/** Random data, deterministic per seed, on a device. */
function rnd(dev: Device, shape: number[], seed: number, scale = 1): Tensor {
  const x = T.randn(shape, { device: dev, seed });
  const y = T.mul(x, scale);
  x.dispose();
  return y;
}

async function agree(fn: (dev: Device) => Tensor, tol = 1e-5): Promise<void> {
  for (const dev of backends) {
    const [got, want] = await Promise.all([fn(dev).data(), fn(cpu).data()]);
    expect(maxRelError(got, want)).toBeLessThanOrEqual(tol);
  }
}

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

describe('views', () => {
  it('transpose, permute, slice and expand read correctly through a copy', async () => {
    await agree((dev) => T.contiguous(T.permute(rnd(dev, [3, 4, 5], 1), [2, 0, 1])));
    await agree((dev) => T.contiguous(T.slice(rnd(dev, [10, 6], 1), 0, 1, 9, 3)));
    await agree((dev) => T.add(T.expand(rnd(dev, [3, 1], 1), [2, 3, 4]), 0));
    const x = T.arange(12, undefined, 1, { device: cpu, dtype: 'f32' }).reshape([3, 4]);
    expect(await T.slice(x, 1, 1, 3).toArray()).toEqual([
      [1, 2],
      [5, 6],
      [9, 10],
    ]);
    expect(await T.transpose(x).reshape([-1]).toArray()).toEqual([
      0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11,
    ]);
  });

  it('reshape of a contiguous tensor shares storage; view refuses a strided one', () => {
    const x = T.zeros([4, 6], { device: cpu });
    expect(T.reshape(x, [2, -1]).storage).toBe(x.storage);
    expect(() => T.view(T.transpose(x), [24])).toThrow(/not contiguous/);
    expect(() => T.reshape(x, [5, 5])).toThrow(
      /cannot reshape \[4, 6\] \(24 elements\) to \[5, 5\]/,
    );
  });

  it('reshape of a strided tensor is a view wherever PyTorch gives one, else a copy', async () => {
    // [M, N, S] permuted from [S, M, N]: M and N still merge.
    expect(T.viewStrides([4, 5, 3], [5, 1, 20], [20, 3])).toEqual([1, 20]);
    // A transpose read under its own shape, and split dimensions of a transposed run.
    expect(T.viewStrides([6, 4], [1, 6], [6, 4])).toEqual([1, 6]);
    expect(T.viewStrides([6, 4], [1, 6], [2, 3, 4])).toEqual([3, 1, 6]);
    // Size-1 dimensions anywhere, and an expanded (stride 0) dimension split in two.
    expect(T.viewStrides([3, 1, 4], [1, 7, 3], [3, 4, 1])).toEqual([1, 3, 3]);
    expect(T.viewStrides([8, 5], [0, 1], [2, 4, 5])).toEqual([0, 0, 1]);
    // Merging across a transpose is impossible.
    expect(T.viewStrides([6, 4], [1, 6], [24])).toBeUndefined();
    expect(T.viewStrides([2, 3, 4], [12, 1, 3], [2, 12])).toBeUndefined();
    for (const dev of [...backends, cpu]) {
      const x = rnd(dev, [3, 4, 5], 1);
      const p = T.permute(x, [1, 2, 0]);
      const merged = T.reshape(p, [20, 3]);
      expect(merged.storage).toBe(x.storage);
      expect(await merged.data()).toEqual(await T.contiguous(p).reshape([20, 3]).data());
      const copied = T.reshape(T.transpose(x, 1, 2), [3, 20]);
      expect(copied.storage).not.toBe(x.storage);
      expect(await copied.data()).toEqual(await T.contiguous(T.transpose(x, 1, 2)).data());
    }
  });

  it('a contiguous slice at an offset is read from its offset by kernels that want packed input', async () => {
    for (const dev of [...backends, cpu]) {
      const x = T.reshape(T.arange(24, undefined, 1, { device: dev, dtype: 'f32' }), [8, 3]);
      const rows = T.slice(x, 0, 5, 8); // contiguous strides, offset 15
      expect(rows.isContiguous && rows.offset === 15).toBe(true);
      const copy = T.contiguous(T.add(rows, 0));
      expect(await T.rmsNorm(rows).data()).toEqual(await T.rmsNorm(copy).data());
      const target = T.tensor(Int32Array.from([0, 2, 1]), { device: dev });
      expect(await T.crossEntropy(rows, target).item()).toBeCloseTo(
        await T.crossEntropy(copy, target).item(),
        6,
      );
    }
  });

  it('sums over leading axes read in place, without a transposing copy', async () => {
    for (const dev of [...backends, cpu]) {
      const x = rnd(dev, [8, 300, 5], 1).requiresGrad_();
      await dev.sync();
      let y: Tensor | undefined;
      const profile = await dev.profile(() => {
        y = T.sum(x, [0, 1]);
      });
      expect(profile.kernels.map((k) => k.name.split(':')[0])).toEqual([
        dev.backend === 'webgpu' ? 'reduce' : 'reduce_rows',
      ]);
      const want = T.sum(T.contiguous(T.permute(x.detach(), [2, 0, 1])), [1, 2]);
      expect(maxRelError(await y!.data(), await want.data())).toBeLessThan(1e-5);
      T.sum(T.mul(y!, T.arange(5, undefined, 1, { device: dev, dtype: 'f32' }))).backward();
      const g = (await x.grad!.toArray()) as number[][][];
      expect(g[7]![299]).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it('squeeze and unsqueeze', () => {
    const x = T.zeros([1, 3, 1, 2], { device: cpu });
    expect(T.squeeze(x).shape).toEqual([3, 2]);
    expect(T.unsqueeze(T.squeeze(x), -1).shape).toEqual([3, 2, 1]);
  });
});

describe('zero-size tensors', () => {
  it('ops on empty tensors give empty (or zero) results on every backend', async () => {
    for (const dev of [...backends, cpu]) {
      const e = T.zeros([0, 4], { device: dev });
      expect(T.add(e, 1).shape).toEqual([0, 4]);
      expect(await T.exp(e).toArray()).toEqual([]);
      expect(await T.sum(e, 0).toArray()).toEqual([0, 0, 0, 0]);
      expect(T.softmax(e).shape).toEqual([0, 4]);
      expect(
        await T.matmul(
          T.zeros([2, 0], { device: dev }),
          T.zeros([0, 3], { device: dev }),
        ).toArray(),
      ).toEqual([
        [0, 0, 0],
        [0, 0, 0],
      ]);
      expect(await T.cat([e, T.ones([1, 4], { device: dev })], 0).toArray()).toEqual([
        [1, 1, 1, 1],
      ]);
    }
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
