import { describe, expect, it } from 'vitest';
import { addressCpu } from './gather-kernel.js';

describe('gather/scatter addressing', () => {
  it('keeps every coordinate of an index element except along dim, which the index value sets', () => {
    // index of shape [2, 3] into a big [4, 5] tensor along dim 1: (r, c) → big[r, at].
    const along1 = addressCpu([2, 3], [4, 5], 1);
    expect(along1(0, 4)).toBe(4); // (0, 0) → [0, 4]
    expect(along1(4, 2)).toBe(7); // (1, 1) → [1, 2]
    // Along dim 0: (r, c) → big[at, c].
    const along0 = addressCpu([2, 3], [4, 5], 0);
    expect(along0(5, 3)).toBe(17); // (1, 2) → [3, 2]
    expect(along0(1, 0)).toBe(1); // (0, 1) → [0, 1]
    // Rank 3, the middle dim: index [2, 1, 2] into [2, 6, 2]: (a, 0, c) → [a, at, c].
    const mid = addressCpu([2, 1, 2], [2, 6, 2], 1);
    expect(mid(3, 5)).toBe(12 + 10 + 1); // (1, 0, 1) → [1, 5, 1]
  });
});
