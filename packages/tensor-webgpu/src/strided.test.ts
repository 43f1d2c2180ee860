import { describe, expect, it } from 'vitest';
import type { TensorLayout } from './backend.js';
import { alignedStrides, cpuIndexer, isDirect } from './strided.js';

const layout = (shape: number[], strides: number[], offset = 0): TensorLayout => ({
  shape,
  strides,
  offset,
  dtype: 'f32',
});

describe('strided reads', () => {
  it('isDirect only for a packed layout at offset 0 of the output shape', () => {
    expect(isDirect(layout([2, 3], [3, 1]), [2, 3])).toBe(true);
    // A size-1 dimension's stride does not matter.
    expect(isDirect(layout([2, 1, 3], [3, 99, 1]), [2, 1, 3])).toBe(true);
    expect(isDirect(layout([2, 3], [1, 2]), [2, 3])).toBe(false);
    expect(isDirect(layout([2, 3], [3, 1], 6), [2, 3])).toBe(false);
    expect(isDirect(layout([3], [1]), [2, 3])).toBe(false);
  });

  it('aligns strides to the output rank, broadcast dimensions reading stride 0', () => {
    expect(alignedStrides(layout([3, 1], [5, 1]), 3)).toEqual([0, 5, 0]);
    expect(alignedStrides(layout([4], [2]), 2)).toEqual([0, 2]);
  });

  it('cpuIndexer maps output indices through a transpose, an offset and a broadcast', () => {
    const all = (ix: (i: number) => number, n: number) =>
      Array.from({ length: n }, (_, i) => ix(i));
    // A [3, 2] storage read transposed as [2, 3].
    expect(all(cpuIndexer(layout([2, 3], [1, 2]), [2, 3]), 6)).toEqual([0, 2, 4, 1, 3, 5]);
    // Rows 1.. of a [4, 3] tensor: offset 3, then packed.
    expect(all(cpuIndexer(layout([2, 3], [3, 1], 3), [2, 3]), 6)).toEqual([3, 4, 5, 6, 7, 8]);
    // A column [2, 1] broadcast to [2, 2, 3] through every leading and trailing position.
    expect(all(cpuIndexer(layout([2, 1], [1, 1]), [2, 2, 3]), 12)).toEqual([
      0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1,
    ]);
    // Every-other element of a vector (a step-2 slice starting at 1).
    expect(all(cpuIndexer(layout([3], [2], 1), [3]), 3)).toEqual([1, 3, 5]);
  });
});
