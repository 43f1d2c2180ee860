import { KVCache } from '@tessera/attention-flash';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

/** [rows, kvHeads, T, headDim] filled with `base + position` in every element of a position. */
function positions(dev: Device, rows: number, t: number, base: number): Tensor {
  const [h, d] = [2, 4];
  const data = Float32Array.from({ length: rows * h * t * d }, (_, i) => {
    const pos = Math.floor(i / d) % t;
    const row = Math.floor(i / (h * t * d));
    return base + 100 * row + pos;
  });
  return T.tensor(data, { shape: [rows, h, t, d], device: dev });
}

/** The first value of each valid position of `row` in the cache's keys. */
async function keysOf(cache: KVCache, row: number): Promise<number[]> {
  const k = (await cache.k.data()) as Float32Array;
  const [, h, cap, d] = cache.k.shape as number[];
  const rowStart = row * h! * cap! * d!;
  return Array.from({ length: cache.lengths[row]! }, (_, p) => k[rowStart + p * d!]!);
}

describe.each(all)('KVCache ($info.backend)', (dev) => {
  const make = () => new KVCache({ rows: 2, kvHeads: 2, headDim: 4, pageSize: 8, device: dev });

  it('appends each row at its own length, and only the listed rows', async () => {
    const cache = make();
    cache.append(positions(dev, 2, 3, 0), positions(dev, 2, 3, 0));
    cache.append(positions(dev, 1, 2, 50), positions(dev, 1, 2, 50), { rows: [1] });
    expect(cache.lengths).toEqual([3, 5]);
    expect(await keysOf(cache, 0)).toEqual([0, 1, 2]);
    expect(await keysOf(cache, 1)).toEqual([100, 101, 102, 50, 51]);
    // Rows listed out of order take their rows of k in that order.
    cache.append(positions(dev, 2, 1, 7), positions(dev, 2, 1, 7), { rows: [1, 0] });
    expect(await keysOf(cache, 1)).toEqual([100, 101, 102, 50, 51, 7]);
    expect(await keysOf(cache, 0)).toEqual([0, 1, 2, 107]);
    cache.dispose();
  });

  it('reset, truncate and reorder change only what they name; growth keeps the contents', async () => {
    const cache = make();
    cache.append(positions(dev, 2, 6, 0), positions(dev, 2, 6, 0));
    cache.truncate(0, 2);
    expect(cache.lengths).toEqual([2, 6]);
    cache.reset(1);
    expect(cache.lengths).toEqual([2, 0]);
    cache.append(positions(dev, 1, 3, 30), positions(dev, 1, 3, 30), { rows: [1] });
    cache.reorder([1, 0]);
    expect(cache.lengths).toEqual([3, 2]);
    expect(await keysOf(cache, 0)).toEqual([30, 31, 32]);
    expect(await keysOf(cache, 1)).toEqual([0, 1]);
    // Past the 8-position page: capacity doubles, and what was there stays.
    cache.append(positions(dev, 1, 7, 60), positions(dev, 1, 7, 60), { rows: [0] });
    expect(cache.capacity).toBe(16);
    expect(await keysOf(cache, 0)).toEqual([30, 31, 32, 60, 61, 62, 63, 64, 65, 66]);
    expect(await keysOf(cache, 1)).toEqual([0, 1]);
    cache.reset();
    expect(cache.lengths).toEqual([0, 0]);
    cache.dispose();
  });

  it('a cache grown inside a tidy scope (as a forward pass grows it) outlives the scope', async () => {
    const cache = new KVCache({ rows: 1, kvHeads: 1, headDim: 8, pageSize: 4, device: dev });
    T.tidy(() =>
      cache.append(T.ones([1, 1, 6, 8], { device: dev }), T.ones([1, 1, 6, 8], { device: dev })),
    );
    expect(cache.capacity).toBe(8);
    expect(cache.k.isDisposed).toBe(false);
    cache.append(T.ones([1, 1, 1, 8], { device: dev }), T.ones([1, 1, 1, 8], { device: dev }));
    expect(Array.from(await T.slice(cache.k, 2, 0, 7).data()).every((x) => x === 1)).toBe(true);
  });

  it('appending inside the capacity keeps the same storage (no per-token reallocation)', () => {
    const cache = new KVCache({ rows: 1, kvHeads: 1, headDim: 8, pageSize: 16, device: dev });
    const storage = cache.k.storage;
    for (let t = 0; t < 16; t++)
      cache.append(T.ones([1, 1, 1, 8], { device: dev }), T.ones([1, 1, 1, 8], { device: dev }));
    expect(cache.k.storage).toBe(storage);
    cache.append(T.ones([1, 1, 1, 8], { device: dev }), T.ones([1, 1, 1, 8], { device: dev }));
    expect(cache.k.storage).not.toBe(storage);
    expect(cache.capacity).toBe(32);
    cache.dispose();
  });
});

describe('KVCache errors', () => {
  it('names wrong shapes, rows, lengths and options', () => {
    const cache = new KVCache({ rows: 2, kvHeads: 2, headDim: 8, device: cpu });
    const kv = T.zeros([1, 2, 1, 8], { device: cpu });
    expect(() =>
      cache.append(T.zeros([2, 3, 1, 8], { device: cpu }), T.zeros([2, 3, 1, 8], { device: cpu })),
    ).toThrow(/k must be \[2, 2, T, 8\], got \[2, 3, 1, 8\]/);
    expect(() => cache.append(kv, kv)).toThrow(/k must be \[2, 2, T, 8\], got \[1, 2, 1, 8\]/);
    expect(() => cache.append(kv, kv, { rows: [2] })).toThrow(
      /KVCache\.append: row 2 is not a row of the cache \(0\.\.1\)/,
    );
    expect(() =>
      cache.append(T.zeros([2, 2, 1, 8], { device: cpu }), T.zeros([2, 2, 1, 8], { device: cpu }), {
        rows: [1, 1],
      }),
    ).toThrow(/row 1 is listed twice/);
    cache.append(kv, kv, { rows: [1] });
    expect(() => cache.truncate(1, 2)).toThrow(/length must be an integer in 0\.\.1/);
    expect(() => cache.reorder([0])).toThrow(/order must list 2 rows, got 1/);
    expect(() => new KVCache({ rows: 0, kvHeads: 1, headDim: 8, device: cpu })).toThrow(
      /rows must be a positive integer, got 0/,
    );
    expect(
      () => new KVCache({ batch: 1, rows: 1, kvHeads: 1, headDim: 8, device: cpu } as never),
    ).toThrow(/KVCache: unknown option "batch"/);
  });
});
