import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { backends, cpu } from './test-utils/agree.js';

describe('inputs a kernel wants packed', () => {
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
