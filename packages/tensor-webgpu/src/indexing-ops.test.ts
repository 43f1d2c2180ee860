import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { gpu, cpu } = await testDevices();
const backends = gpu ? [gpu] : [cpu];

const ids = (dev: Device, values: number[], shape?: number[]) =>
  T.tensor(Int32Array.from(values), { device: dev, shape });

const values = smoothValues;

async function agree(fn: (dev: Device) => Tensor, tol = 1e-6): Promise<void> {
  for (const dev of backends) {
    const [got, want] = await Promise.all([fn(dev).data(), fn(cpu).data()]);
    expect(maxRelError(got, want)).toBeLessThanOrEqual(tol);
  }
}

describe('gather, scatterAdd, indexSelect, embedding', () => {
  it('gather picks along a dim like torch.gather', async () => {
    for (const dev of backends) {
      const x = T.tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { device: dev },
      );
      expect(await T.gather(x, 1, ids(dev, [2, 0, 1, 1], [2, 2])).toArray()).toEqual([
        [3, 1],
        [5, 5],
      ]);
      expect(await T.gather(x, 0, ids(dev, [1, 0, 1], [1, 3])).toArray()).toEqual([[4, 2, 6]]);
    }
  });

  it('gather and scatterAdd read a broadcast or transposed index and an offset source in place', async () => {
    for (const dev of [...backends, cpu]) {
      // x at an offset in its storage, the index broadcast along dim 1 (stride 0), then transposed.
      const x = T.slice(
        T.arange(40, undefined, 1, { device: dev, dtype: 'f32' }).reshape([8, 5]),
        0,
        2,
      );
      const col = ids(dev, [3, 0, 5, 1], [4, 1]);
      const wide = T.expand(col, [4, 5]);
      expect(x.offset).toBe(10);
      const got = await T.gather(x, 0, wide).toArray();
      expect(got).toEqual([
        [25, 26, 27, 28, 29],
        [10, 11, 12, 13, 14],
        [35, 36, 37, 38, 39],
        [15, 16, 17, 18, 19],
      ]);
      const tIndex = T.transpose(ids(dev, [0, 1, 0, 2, 2, 2], [2, 3]));
      const src = T.slice(T.arange(10, undefined, 1, { device: dev, dtype: 'f32' }), 0, 4);
      // src [4..9] as [3, 2]; index transposed [3, 2]: column 0 gets rows 0,1,0 → +4, +6, +8 ...
      const sums = await T.scatterAdd([3, 2], 0, tIndex, T.reshape(src, [3, 2])).toArray();
      expect(sums).toEqual([
        [4 + 8, 0],
        [6, 0],
        [0, 5 + 7 + 9],
      ]);
    }
  });

  it('embedding gradient accumulates repeated ids (scatter-add)', async () => {
    for (const dev of [...backends, cpu]) {
      const w = T.tensor(
        [
          [1, 1],
          [2, 2],
          [3, 3],
        ],
        { device: dev, requiresGrad: true },
      );
      const e = T.embedding(w, ids(dev, [2, 0, 2, 2], [2, 2]));
      expect(e.shape).toEqual([2, 2, 2]);
      expect(await e.toArray()).toEqual([
        [
          [3, 3],
          [1, 1],
        ],
        [
          [3, 3],
          [3, 3],
        ],
      ]);
      T.sum(e).backward();
      expect(await w.grad!.toArray()).toEqual([
        [1, 1],
        [0, 0],
        [3, 3],
      ]);
    }
  });

  it('large scatter-add on the GPU equals the CPU (atomic accumulation)', async () => {
    const make = (dev: Device) => {
      const index = T.randint(0, 50, [4000, 3], { device: dev, seed: 3 });
      const src = T.randn([4000, 3], { device: dev, seed: 4 });
      return T.scatterAdd([50, 3], 0, index, src);
    };
    await agree(make, 1e-4);
  });

  it('indexSelect along dim 1 and its gradient', async () => {
    await agree((dev) =>
      T.indexSelect(T.randn([3, 10, 2], { device: dev, seed: 1 }), 1, ids(dev, [9, 0, 9, 4])),
    );
    const f = (x: Tensor) => T.indexSelect(x, 1, ids(cpu, [2, 0, 2]));
    expect(await gradCheck(cpu, f, [values(6, 1)], [[2, 3]])).toBeLessThan(2e-2);
  });

  it('an out-of-range index is an error on the CPU backend', async () => {
    const w = T.zeros([3, 2], { device: cpu });
    expect(() => T.embedding(w, ids(cpu, [3]))).toThrow(
      /gather: index 3 is out of range for a dimension of size 3/,
    );
  });
});

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

describe('topk, argmax, var', () => {
  it('topk returns the k largest in order, ties by index, on any dim', async () => {
    for (const dev of backends) {
      const x = T.tensor(
        [
          [1, 5, 3, 5, -1],
          [0, 0, 0, 2, 1],
        ],
        { device: dev },
      );
      const { values: v, indices } = T.topk(x, 3);
      expect(await v.toArray()).toEqual([
        [5, 5, 3],
        [2, 1, 0],
      ]);
      expect(await indices.toArray()).toEqual([
        [1, 3, 2],
        [3, 4, 0],
      ]);
    }
    await agree((dev) => T.topk(T.randn([4, 700, 3], { device: dev, seed: 5 }), 7, 1).values);
    await agree((dev) => T.topk(T.randn([4, 700, 3], { device: dev, seed: 5 }), 7, 1).indices);
  });

  it('topk rejects k out of range and passes gradient to the picked elements', async () => {
    expect(() => T.topk(T.zeros([2, 3], { device: cpu }), 4)).toThrow(
      /k must be an integer in \[1, 3\]/,
    );
    const x = T.tensor([[1, 9, 3]], { device: cpu, requiresGrad: true });
    T.sum(T.topk(x, 2).values).backward();
    expect(await x.grad!.toArray()).toEqual([[0, 1, 1]]);
  });

  it('argmax takes the first maximum', async () => {
    for (const dev of [...backends, cpu]) {
      expect(
        await T.argmax(
          T.tensor(
            [
              [1, 7, 7],
              [9, 2, 9],
            ],
            { device: dev },
          ),
          1,
        ).toArray(),
      ).toEqual([1, 0]);
      expect(
        await T.argmax(
          T.tensor(
            [
              [1, 7],
              [9, 2],
            ],
            { device: dev },
          ),
        ).item(),
      ).toBe(2);
    }
  });

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

describe('dropout and casts', () => {
  it('the same seed gives the same mask on WebGPU and CPU, with the right rate and scale', async () => {
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
