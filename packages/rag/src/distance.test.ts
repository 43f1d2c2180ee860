import { describe, expect, it } from 'vitest';
import {
  distanceKey,
  distanceKeys,
  dot,
  keyToDistance,
  squaredL2,
  storedForm,
} from './distance.js';

describe('distance kernels', () => {
  it('dot and squared L2 match their definitions on every length and offset', () => {
    const a = Float32Array.from({ length: 23 }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: 23 }, (_, i) => Math.cos(i * 0.7));
    for (const n of [0, 1, 3, 4, 5, 17]) {
      let d = 0;
      let l = 0;
      for (let i = 0; i < n; i++) {
        d += a[i + 2]! * b[i + 1]!;
        l += (a[i + 2]! - b[i + 1]!) ** 2;
      }
      expect(dot(a, 2, b, 1, n)).toBeCloseTo(d, 12);
      expect(squaredL2(a, 2, b, 1, n)).toBeCloseTo(l, 12);
    }
  });

  it('stores unit vectors under cosine, and keys order like distances', () => {
    const v = storedForm([3, 4], 'cosine');
    expect(Array.from(v)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(Array.from(storedForm([3, 4], 'dot'))).toEqual([3, 4]);
    const q = storedForm([1, 0], 'l2');
    const p = storedForm([4, 4], 'l2');
    expect(keyToDistance('l2', distanceKey('l2', q, 0, p, 0, 2))).toBe(5);
    expect(distanceKey('dot', q, 0, p, 0, 2)).toBe(-4);
    expect(distanceKey('cosine', storedForm([1, 0], 'cosine'), 0, v, 0, 2)).toBeCloseTo(0.4, 6);
  });
});

describe('distanceKeys', () => {
  it('gives distanceKey for each offset, in groups of four and the rest', () => {
    const data = Float32Array.from({ length: 9 * 7 }, (_, i) => Math.sin(i * 1.3));
    const q = Float32Array.from({ length: 7 }, (_, i) => Math.cos(i));
    const offsets = Int32Array.from([56, 0, 14, 7, 49, 21, 35]);
    const out = new Float64Array(7);
    for (const metric of ['cosine', 'dot', 'l2'] as const) {
      distanceKeys(metric, q, 0, data, offsets, 7, 7, out);
      offsets.forEach((o, j) => {
        expect(out[j]).toBeCloseTo(distanceKey(metric, q, 0, data, o, 7), 12);
      });
    }
  });
});
