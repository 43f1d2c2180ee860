import { describe, expect, it } from 'vitest';
import { maxRelError } from './testing-devices.js';

describe('maxRelError', () => {
  it('is |a − b| relative to max(1, |b|), worst over the arrays; NaN matches NaN', () => {
    expect(maxRelError([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(maxRelError([0.5, 110], [0.25, 100])).toBeCloseTo(0.25, 12);
    expect(maxRelError([Number.NaN, Infinity], [Number.NaN, Infinity])).toBe(0);
    expect(maxRelError([Number.NaN], [1])).toBeNaN();
  });

  it('refuses arrays of different lengths', () => {
    expect(() => maxRelError([1, 2], [1])).toThrow('length 2 vs 1');
  });
});
