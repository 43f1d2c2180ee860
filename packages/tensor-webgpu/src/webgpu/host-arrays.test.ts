import { describe, expect, it } from 'vitest';
import { fromGpuBytes, toGpuArray } from './host-arrays.js';

describe('host arrays', () => {
  it('writes each dtype as the bytes a GPU buffer holds, and reads them back', () => {
    const f16 = toGpuArray('f16', [1, -2, 0.5]);
    expect(Array.from(f16 as Uint16Array)).toEqual([0x3c00, 0xc000, 0x3800, 0]);
    expect(Array.from(fromGpuBytes('f16', f16.buffer as ArrayBuffer, 3))).toEqual([1, -2, 0.5]);
    for (const [dtype, data] of [
      ['f32', [1.5, -2]],
      ['i32', [-7, 8]],
      ['u32', [4294967295, 3]],
    ] as const) {
      const bytes = toGpuArray(dtype, data);
      expect(bytes.byteLength).toBe(8);
      expect(Array.from(fromGpuBytes(dtype, bytes.buffer as ArrayBuffer, 2))).toEqual(data);
    }
  });

  it('passes typed arrays of the right kind through, and reads only `length` elements', () => {
    const f = Float32Array.from([1, 2, 3]);
    expect(toGpuArray('f32', f)).toBe(f);
    expect(toGpuArray('i32', f)).toBeInstanceOf(Int32Array);
    expect(Array.from(fromGpuBytes('f32', f.buffer, 2))).toEqual([1, 2]);
  });
});
