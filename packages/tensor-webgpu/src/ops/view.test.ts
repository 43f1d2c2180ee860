import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { agree, backends, cpu, rnd } from '../test-utils/agree.js';

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

  it('squeeze and unsqueeze', () => {
    const x = T.zeros([1, 3, 1, 2], { device: cpu });
    expect(T.squeeze(x).shape).toEqual([3, 2]);
    expect(T.unsqueeze(T.squeeze(x), -1).shape).toEqual([3, 2, 1]);
  });
});
