import type { ModelCache } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderCache } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';

const { cpu } = await testDevices();
const sizes = { rows: 3, maxLength: 10, layers: 2, kvHeads: 1, headDim: 4, device: cpu };
const make = () => new DecoderCache(sizes);

describe('DecoderCache', () => {
  it("is the sampler's ModelCache: per-row lengths on the host, one per row across the layers", () => {
    const cache: ModelCache = make();
    expect(cache.rows).toBe(3);
    expect(cache.maxLength).toBe(10);
    expect(cache.lengths).toEqual([0, 0, 0]);
  });

  it('gives each row its next positions; reset, truncate and reorder reach every layer', async () => {
    const cache = make();
    const append = (rows: number[], t: number) => {
      for (const layer of cache.layers) {
        const kv = T.zeros([rows.length, 1, t, 4], { device: cpu });
        layer.append(kv, kv, { rows });
      }
    };
    append([0], 4);
    append([2], 7);
    expect(cache.lengths).toEqual([4, 0, 7]);
    expect(Array.from(await cache.positions([2, 0], 2, cpu).data())).toEqual([7, 8, 4, 5]);
    cache.truncate(2, 3);
    cache.reorder([2, 0, 0]);
    expect(cache.layers.map((l) => [...l.lengths])).toEqual([
      [3, 4, 4],
      [3, 4, 4],
    ]);
    cache.reset(1);
    expect(cache.lengths).toEqual([3, 0, 4]);
    cache.reset();
    expect(cache.lengths).toEqual([0, 0, 0]);
  });

  it('allocates the window, not a whole 256-position page, when the window is smaller', () => {
    const small = make();
    expect(small.layers.map((l) => l.capacity)).toEqual([10, 10]);
    expect(small.layers[0]!.k.shape).toEqual([3, 1, 10, 4]);
    const large = new DecoderCache({ ...sizes, maxLength: 600 });
    expect(large.layers[0]!.capacity).toBe(256);
  });

  it('names a row past maxLength and a row that is not there', () => {
    const cache = make();
    expect(() => cache.positions([1], 11, cpu)).toThrow(
      /row 1 holds 0 positions; 11 more exceed its maxLength 10/,
    );
    expect(() => cache.positions([3], 1, cpu)).toThrow(
      /row 3 is not a row of the cache \(0\.\.2\)/,
    );
  });
});
