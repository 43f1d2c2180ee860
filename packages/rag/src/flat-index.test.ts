import { FlatIndex, type Metric } from '@tessera/rag';
import { describe, expect, it } from 'vitest';
import { gaussianVectors } from './test-utils/vectors.js';

/** Distances computed here in plain double arithmetic, the definitions side by side. */
const reference: Record<Metric, (a: ArrayLike<number>, b: ArrayLike<number>) => number> = {
  cosine: (a, b) => {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = 0; i < a.length; i++) {
      ab += a[i]! * b[i]!;
      aa += a[i]! * a[i]!;
      bb += b[i]! * b[i]!;
    }
    return 1 - ab / Math.sqrt(aa * bb);
  },
  dot: (a, b) => -Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0),
  l2: (a, b) => Math.sqrt(Array.from(a).reduce((s, x, i) => s + (x - b[i]!) ** 2, 0)),
};

describe('FlatIndex', () => {
  it.each(['cosine', 'dot', 'l2'] as Metric[])('is exact k-nearest search (%s)', (metric) => {
    const data = gaussianVectors(500, 13, 1);
    const index = new FlatIndex({ dimension: 13, metric });
    index.add(data);
    for (const { vector: q } of gaussianVectors(10, 13, 2, 'q')) {
      const want = data
        .map((r) => ({ id: r.id, distance: reference[metric](q, r.vector) }))
        .sort((a, b) => a.distance - b.distance)
        .slice(0, 7);
      const got = index.search(q, 7);
      expect(got.map((h) => h.id)).toEqual(want.map((h) => h.id));
      for (const [i, h] of got.entries()) expect(h.distance).toBeCloseTo(want[i]!.distance, 5);
    }
  });

  it('deletes by moving the last vector into the slot, and survives a bytes round trip', () => {
    const data = gaussianVectors(50, 4, 3);
    const index = new FlatIndex({ dimension: 4, metric: 'l2' });
    index.add(data);
    index.delete(['v3', 'v49', 'nope']);
    expect(index.size()).toBe(48);
    expect(index.has('v3')).toBe(false);
    const q = data[3]!.vector;
    expect(index.search(q, 60).map((h) => h.id)).not.toContain('v3');
    expect(index.search(q, 60)).toHaveLength(48);
    const copy = FlatIndex.fromBytes(index.toBytes());
    expect(copy.search(q, 10)).toEqual(index.search(q, 10));
    copy.add([{ id: 'v3', vector: q }]);
    expect(copy.search(q, 1)[0]).toEqual({ id: 'v3', distance: 0 });
  });

  it('rejects wrong dimensions, duplicate ids, zero cosine vectors, bad k — adding nothing', () => {
    const index = new FlatIndex({ dimension: 3 });
    index.add([{ id: 'a', vector: [1, 0, 0] }]);
    expect(() =>
      index.add([
        { id: 'b', vector: [0, 1, 0] },
        { id: 'c', vector: [0, 1] },
      ]),
    ).toThrow('FlatIndex.add: records[1].vector has 2 values, expected the dimension 3');
    expect(() => index.add([{ id: 'a', vector: [0, 1, 0] }])).toThrow(
      /id "a" \(records\[0\]\) is already stored/,
    );
    expect(() =>
      index.add([
        { id: 'b', vector: [0, 1, 0] },
        { id: 'b', vector: [0, 1, 0] },
      ]),
    ).toThrow(/duplicate id "b" in records\[1\]/);
    expect(() => index.add([{ id: 'z', vector: [0, 0, 0] }])).toThrow(/all zeros/);
    expect(index.size()).toBe(1);
    expect(() => index.search([1, 0, 0], 0)).toThrow(/k must be a positive integer, got 0/);
    expect(() => index.search([1, 0], 1)).toThrow(/query has 2 values, expected the dimension 3/);
    expect(() => new FlatIndex({ dimension: 3, metric: 'ip' as Metric })).toThrow(
      /metric must be one of cosine, dot, l2, got "ip"/,
    );
    expect(() => new FlatIndex({ dimension: 0 })).toThrow(/dimension must be a positive integer/);
  });
});
