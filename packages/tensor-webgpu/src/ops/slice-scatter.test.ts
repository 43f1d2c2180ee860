import * as T from '@tessera/tensor-webgpu';
import { gradCheck, smoothValues } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { backends, cpu } from '../test-utils/agree.js';

describe('sliceScatter', () => {
  it('writes src at start, start+step, ... along dim into zeros, on every backend', async () => {
    for (const dev of [...backends, cpu]) {
      const src = T.tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { device: dev },
      );
      // Columns 1 and 3 of a [2, 5] zero tensor.
      expect(await T.sliceScatter(src, [2, 5], 1, 1, 2).toArray()).toEqual([
        [0, 1, 0, 2, 0],
        [0, 3, 0, 4, 0],
      ]);
      // Rows 2 and 3 of a [4, 2] zero tensor.
      expect(await T.sliceScatter(src, [4, 2], 0, 2).toArray()).toEqual([
        [0, 0],
        [0, 0],
        [1, 2],
        [3, 4],
      ]);
    }
  });

  it('is the inverse of slice, and its gradient is the slice of the incoming gradient', async () => {
    const x = T.randn([3, 7], { device: cpu, seed: 1 });
    const s = T.slice(x, 1, 1, 7, 3);
    expect(await T.slice(T.sliceScatter(s, [3, 7], 1, 1, 3), 1, 1, 7, 3).data()).toEqual(
      await s.data(),
    );
    const f = (src: T.Tensor) => T.mul(T.sliceScatter(src, [3, 7], 1, 1, 3), 1.5);
    expect(await gradCheck(cpu, f, [smoothValues(6, 1)], [[3, 2]])).toBeLessThan(2e-2);
  });
});
