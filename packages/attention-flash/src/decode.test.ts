import { attention, decodeAttention, KVCache } from '@tessera/attention-flash';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

describe.each(all)('decoding with a KV cache ($info.backend)', (dev) => {
  it('token-by-token decoding equals full causal attention, across cache growth and GQA', async () => {
    const [b, h, hkv, d, total] = [2, 4, 2, 32, 300];
    const q = T.randn([b, h, total, d], { device: dev, seed: 1 });
    const k = T.randn([b, hkv, total, d], { device: dev, seed: 2 });
    const v = T.randn([b, hkv, total, d], { device: dev, seed: 3 });
    const full = (await attention(q, k, v, { causal: true }).toArray()) as number[][][][];
    const cache = new KVCache({ batch: b, kvHeads: hkv, headDim: d, pageSize: 64, device: dev });
    const step = (t0: number, t1: number) => {
      cache.append(T.slice(k, 2, t0, t1), T.slice(v, 2, t0, t1));
      return decodeAttention(T.slice(q, 2, t0, t1), cache, { causal: true });
    };
    // A 250-token prefill, then single tokens: the cache grows from 64 to 256 to 512.
    await step(0, 250).data();
    expect(cache.capacity).toBe(256);
    for (let t = 250; t < total; t++) {
      const out = (await step(t, t + 1).toArray()) as number[][][][];
      if (t % 17 === 0 || t === total - 1) {
        for (let bi = 0; bi < b; bi++)
          for (let hi = 0; hi < h; hi++)
            expect(maxRelError(out[bi]![hi]![0]!, full[bi]![hi]![t]!)).toBeLessThan(2e-5);
      }
    }
    expect(cache.length).toBe(total);
    expect(cache.capacity).toBe(512);
    expect(cache.capacity % cache.pageSize).toBe(0);
  });

  it('appending inside the capacity keeps the same storage (no per-token reallocation)', () => {
    const cache = new KVCache({ batch: 1, kvHeads: 1, headDim: 8, pageSize: 16, device: dev });
    const storage = cache.k.storage;
    for (let t = 0; t < 16; t++)
      cache.append(T.ones([1, 1, 1, 8], { device: dev }), T.ones([1, 1, 1, 8], { device: dev }));
    expect(cache.k.storage).toBe(storage);
    cache.append(T.ones([1, 1, 1, 8], { device: dev }), T.ones([1, 1, 1, 8], { device: dev }));
    expect(cache.k.storage).not.toBe(storage);
    expect(cache.capacity).toBe(32);
  });
});

describe('KV cache errors', () => {
  it('names wrong shapes and an empty cache', () => {
    const cache = new KVCache({ batch: 1, kvHeads: 2, headDim: 8, device: cpu });
    expect(() => decodeAttention(T.zeros([1, 2, 1, 8], { device: cpu }), cache)).toThrow(
      /the KV cache is empty/,
    );
    expect(() =>
      cache.append(T.zeros([1, 3, 1, 8], { device: cpu }), T.zeros([1, 3, 1, 8], { device: cpu })),
    ).toThrow(/k must be \[1, 2, T, 8\], got \[1, 3, 1, 8\]/);
    expect(() => new KVCache({ batch: 0, kvHeads: 1, headDim: 8, device: cpu })).toThrow(
      /batch must be a positive integer, got 0/,
    );
  });
});
