import { describe, expect, it } from 'vitest';
import {
  assertShape,
  broadcastShapes,
  contiguousStrides,
  formatShape,
  normalizeAxes,
  normalizeAxis,
  sameShape,
  sizeOf,
} from './shape.js';

describe('shape arithmetic', () => {
  it('sizes and row-major strides', () => {
    expect(sizeOf([2, 3, 4])).toBe(24);
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([5, 0, 2])).toBe(0);
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(contiguousStrides([7])).toEqual([1]);
    expect(contiguousStrides([])).toEqual([]);
    expect(sameShape([2, 3], [2, 3])).toBe(true);
    expect(sameShape([2, 3], [3, 2])).toBe(false);
    expect(sameShape([2], [2, 1])).toBe(false);
    expect(formatShape([2, 3])).toBe('[2, 3]');
  });

  it('broadcasts like NumPy and names both shapes when it cannot', () => {
    expect(broadcastShapes([3, 1, 5], [4, 1], 'add')).toEqual([3, 4, 5]);
    expect(broadcastShapes([], [2, 3], 'add')).toEqual([2, 3]);
    expect(broadcastShapes([0, 1], [1, 4], 'add')).toEqual([0, 4]);
    expect(() => broadcastShapes([2, 3], [4, 3], 'mul')).toThrow(
      /mul: shapes \[2, 3\] and \[4, 3\] do not broadcast \(dimension 0: 2 vs 4\)/,
    );
  });

  it('normalises negative axes, sorts them, and refuses repeated or out-of-range ones', () => {
    expect(normalizeAxes(undefined, 3, 'sum')).toEqual([0, 1, 2]);
    expect(normalizeAxes(-1, 3, 'sum')).toEqual([2]);
    expect(normalizeAxes([2, -3], 3, 'sum')).toEqual([0, 2]);
    expect(() => normalizeAxes([1, -2], 3, 'sum')).toThrow(/sum: axes \[1,-2\] repeat an axis/);
    // A scalar's axis 0 (or -1) names the scalar itself, as in PyTorch: nothing to reduce.
    expect(normalizeAxis(-1, 0, 'sum')).toBe(0);
    expect(normalizeAxes(-1, 0, 'sum')).toEqual([]);
    expect(normalizeAxes(0, 0, 'sum')).toEqual([]);
    expect(() => normalizeAxes([0, -1], 0, 'sum')).toThrow(/sum: axes \[0,-1\] repeat an axis/);
    expect(() => normalizeAxis(1, 0, 'sum')).toThrow(
      /axis 1 is out of range for a tensor of rank 0/,
    );
    expect(() => normalizeAxis(3, 3, 'max')).toThrow(
      /max: axis 3 is out of range for a tensor of rank 3/,
    );
    expect(() => normalizeAxis(-4, 3, 'max')).toThrow(/axis -4 is out of range/);
    expect(() => normalizeAxis(0.5, 3, 'max')).toThrow(/axis 0.5 is out of range/);
  });

  it('assertShape copies a valid shape and names the argument of an invalid one', () => {
    const shape = [2, 0, 3];
    const copy = assertShape(shape, 'zeros(shape)');
    expect(copy).toEqual(shape);
    expect(copy).not.toBe(shape);
    expect(() => assertShape([2, -1], 'zeros(shape)')).toThrow(
      /zeros\(shape\): expected an array of non-negative integers, got \[2,-1\]/,
    );
    expect(() => assertShape('3', 'zeros(shape)')).toThrow(/got "3"/);
  });
});
