import { describe, expect, it } from 'vitest';
import { CpuBackend, fillHost } from './cpu-backend.js';

describe('CPU reference backend', () => {
  it('fillHost converts numbers to the dtype: integers by the cast rule, f16 rounded to half', () => {
    const i = new Int32Array(3);
    fillHost(i, 'i32', [2.9, -2.9, Number.NaN]);
    expect(Array.from(i)).toEqual([2, -2, 0]);
    const h = new Float32Array(3);
    // 1 + 2^-12 is below half an f16 step above 1; 1/3 rounds to the nearest half, 0.333251953125.
    fillHost(h, 'f16', [1 + 2 ** -12, 1 / 3, 65520]);
    expect(Array.from(h)).toEqual([1, 0.333251953125, Infinity]);
  });

  it('counts live and peak bytes and reads a range back', async () => {
    const b = new CpuBackend();
    const s = b.allocate('f32', 4, [1, 2, 3, 4]);
    const t = b.allocate('i32', 2);
    expect(b.stats()).toMatchObject({ liveBytes: 24, peakBytes: 24, buffersCreated: 2 });
    b.free(s);
    expect(b.stats()).toMatchObject({ liveBytes: 8, peakBytes: 24 });
    b.resetPeak();
    expect(b.stats().peakBytes).toBe(8);
    expect(Array.from(await b.read(s, 'f32', 1, 2))).toEqual([2, 3]);
    expect(Array.from(await b.read(t, 'i32', 0, 2))).toEqual([0, 0]);
  });
});
