import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { cpu, all, underTest } = await testDevices();
const backends = underTest.length > 0 ? underTest : [cpu];

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
});

describe.each(all)('out-of-range indices ($info.backend)', (dev) => {
  const w = T.tensor(
    [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
    { device: dev },
  );
  /** Runs `fn` and reads an unrelated tensor: WebGPU raises a failed check at the next read. */
  const thenRead = (fn: () => unknown) => async () => {
    fn();
    await T.ones([1], { device: dev }).data();
  };

  it('embedding, indexSelect, gather and scatterAdd raise the error the CPU raises', async () => {
    await expect(thenRead(() => T.embedding(w, ids(dev, [0, 3])))).rejects.toThrow(
      new RangeError('embedding: index 3 is out of range for a dimension of size 3'),
    );
    await expect(thenRead(() => T.indexSelect(w, 1, ids(dev, [-1])))).rejects.toThrow(
      'indexSelect: index -1 is out of range for a dimension of size 2',
    );
    await expect(thenRead(() => T.gather(w, 0, ids(dev, [0, 5], [1, 2])))).rejects.toThrow(
      'gather: index 5 is out of range for a dimension of size 3',
    );
    const one = T.ones([1, 1], { device: dev });
    await expect(
      thenRead(() => T.scatterAdd([2, 2], 1, ids(dev, [2], [1, 1]), one)),
    ).rejects.toThrow('scatterAdd: index 2 is out of range for a dimension of size 2');
  });

  it('raises once, also from sync(), and leaves the device usable', async () => {
    await expect(async () => {
      T.embedding(w, ids(dev, [9]));
      await dev.sync();
    }).rejects.toThrow('embedding: index 9 is out of range');
    await dev.sync();
    expect(Array.from(await T.embedding(w, ids(dev, [2, 0])).data())).toEqual([5, 6, 1, 2]);
  });
});
