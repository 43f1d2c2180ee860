import { describe, expect, it } from 'vitest';
import { asElements, assertDType, cpuArrayFor, isFloat, toInteger, wgslType } from './dtype.js';

describe('dtypes', () => {
  it('converts numbers to integer elements: truncate toward zero, saturate, NaN to 0', () => {
    expect([2.7, -2.7, Number.NaN, 3e9, -3e9, Infinity].map((x) => toInteger(x, 'i32'))).toEqual([
      2, -2, 0, 2147483647, -2147483648, 2147483647,
    ]);
    expect([2.7, -2.7, Number.NaN, 5e9, -Infinity].map((x) => toInteger(x, 'u32'))).toEqual([
      2, 0, 0, 4294967295, 0,
    ]);
    expect(toInteger(2.7, 'f32')).toBe(2.7);
    expect(toInteger(-2.5, 'f16')).toBe(-2.5);
  });

  it('asElements converts plain arrays for integer dtypes and passes typed or float data through', () => {
    const i = asElements('i32', [1.9, -1.9, 3e9]);
    expect(i).toBeInstanceOf(Int32Array);
    expect(Array.from(i)).toEqual([1, -1, 2147483647]);
    expect(Array.from(asElements('u32', [-1, 7.5]))).toEqual([0, 7]);
    const typed = Int32Array.from([4, 5]);
    expect(asElements('i32', typed)).toBe(typed);
    const floats = [0.5, 1.5];
    expect(asElements('f32', floats)).toBe(floats);
  });

  it('storage arrays and WGSL types per dtype', () => {
    expect(cpuArrayFor('f16', 3)).toBeInstanceOf(Float32Array);
    expect(cpuArrayFor('i32', 3)).toBeInstanceOf(Int32Array);
    expect(cpuArrayFor('u32', 3).length).toBe(3);
    expect(isFloat('f16') && isFloat('f32') && !isFloat('i32') && !isFloat('u32')).toBe(true);
    expect(['f32', 'f16', 'i32', 'u32'].map((d) => wgslType(d as 'f32'))).toEqual([
      'f32',
      'f16',
      'i32',
      'u32',
    ]);
  });

  it('assertDType names the argument, the value and the allowed dtypes', () => {
    expect(assertDType('u32', 'zeros(dtype)')).toBe('u32');
    expect(() => assertDType('f64', 'zeros(dtype)')).toThrow(
      'zeros(dtype): expected one of f32, f16, i32, u32, got "f64"',
    );
  });
});
