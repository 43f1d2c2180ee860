import { describe, expect, it } from 'vitest';
import { f16BitsToF32, f32ToF16Bits } from './f16.js';

describe('f16 conversions', () => {
  it('encodes IEEE half-precision bit patterns, rounding to nearest even', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff], // largest finite half
      [65520, 0x7c00], // halfway to 2^16: rounds up to infinity
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // a tie between 0 and 2^-24: to even
      [3 * 2 ** -25, 0x0002], // a tie between 1 and 2 subnormal steps: to even
      [1 + 2 ** -11, 0x3c00], // a tie above 1: to even (down)
      [1 + 3 * 2 ** -11, 0x3c02], // a tie: to even (up)
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie: up
    ];
    const bits = f32ToF16Bits(cases.map(([x]) => x));
    expect(cases.map(([x], i) => [x, bits[i]])).toEqual(cases);
    expect(f32ToF16Bits([Number.NaN])[0]! & 0x7c00).toBe(0x7c00);
    expect(f32ToF16Bits([Number.NaN])[0]! & 0x3ff).not.toBe(0);
  });

  it('decodes every half to the value it names, and encoding it again gives the same bits', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const values = f16BitsToF32(all);
    expect(values[0x3c00]).toBe(1);
    expect(values[0x7bff]).toBe(65504);
    expect(values[0x0001]).toBe(2 ** -24);
    expect(values[0xfc00]).toBe(-Infinity);
    expect(Number.isNaN(values[0x7e00]!)).toBe(true);
    const again = f32ToF16Bits(values);
    for (let h = 0; h < 65536; h++) {
      const nan = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (!nan && again[h] !== h) expect([h, again[h]]).toEqual([h, h]);
    }
  });

  it('pads the encoded array to an even length (whole 32-bit words)', () => {
    expect(f32ToF16Bits([1, 2, 3]).length).toBe(4);
    expect(f32ToF16Bits([1, 2]).length).toBe(2);
  });
});
