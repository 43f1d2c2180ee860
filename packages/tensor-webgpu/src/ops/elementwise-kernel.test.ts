import { describe, expect, it } from 'vitest';
import type { CpuTensor } from '../backend.js';
import { collapseDims, computeType, elementwiseCpu } from './elementwise-kernel.js';

const t = (data: number[], shape: number[], strides: number[], offset = 0): CpuTensor => ({
  data: Float32Array.from(data),
  shape,
  strides,
  offset,
  dtype: 'f32',
});

describe('elementwise kernels', () => {
  it('collapseDims drops size-1 dimensions and merges runs every input steps through as one', () => {
    // Two packed [2, 3, 4] inputs: one run of 24.
    expect(
      collapseDims(
        [2, 3, 4],
        [
          [12, 4, 1],
          [12, 4, 1],
        ],
      ),
    ).toEqual({ shape: [24], strides: [[1], [1]] });
    // A broadcast row (stride 0 on dim 0) keeps the dims apart; the size-1 dim disappears.
    expect(
      collapseDims(
        [3, 1, 4],
        [
          [4, 4, 1],
          [0, 0, 1],
        ],
      ),
    ).toEqual({
      shape: [3, 4],
      strides: [
        [4, 1],
        [0, 1],
      ],
    });
    // A transposed input stops the merge.
    expect(collapseDims([2, 3], [[1, 2]])).toEqual({ shape: [2, 3], strides: [[1, 2]] });
    // All size 1: a single element.
    expect(collapseDims([1, 1], [[1, 1]])).toEqual({ shape: [1], strides: [[0]] });
  });

  it('elementwiseCpu applies fn through broadcast and strided inputs', () => {
    const out = t([0, 0, 0, 0, 0, 0], [2, 3], [3, 1]);
    // a: [3, 2] storage read transposed; b: a row [3] broadcast over both rows.
    elementwiseCpu(
      [t([1, 2, 3, 4, 5, 6], [2, 3], [1, 2]), t([10, 20, 30], [3], [1])],
      out,
      (a, b) => a! + b!,
    );
    expect(Array.from(out.data)).toEqual([11, 23, 35, 12, 24, 36]);
  });

  it('elementwiseCpu rounds an f16 output to half precision', () => {
    const out: CpuTensor = { ...t([0], [1], [1]), dtype: 'f16' };
    elementwiseCpu([t([1], [1], [1])], out, (a) => a! + 2 ** -12);
    expect(out.data[0]).toBe(1);
  });

  it('floats compute in f32, integers in their own type', () => {
    expect(['f32', 'f16', 'i32', 'u32'].map((d) => computeType(d as 'f32'))).toEqual([
      'f32',
      'f32',
      'i32',
      'u32',
    ]);
  });
});
