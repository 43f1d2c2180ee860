import { describe, expect, it } from 'vitest';
import { SeededUniform } from './random.js';
import { TopK } from './top-k.js';

describe('TopK', () => {
  it('keeps the k smallest keys of a stream, sorted with ties by item', () => {
    const rng = new SeededUniform(4);
    const keys = Array.from({ length: 1000 }, () => Math.floor(rng.next() * 100));
    const top = new TopK(25);
    keys.forEach((k, i) => {
      top.push(k, i);
    });
    const want = keys
      .map((key, item) => ({ key, item }))
      .sort((a, b) => a.key - b.key || a.item - b.item)
      .slice(0, 25);
    // Among equal keys at the boundary any may be kept; the keys must agree exactly.
    expect(top.sorted().map((p) => p.key)).toEqual(want.map((p) => p.key));
    expect(top.worst()).toBe(want[24]!.key);
  });
});
