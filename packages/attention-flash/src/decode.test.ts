import { attention, decodeAttention, KVCache } from '@tessera/attention-flash';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

/** Random q, k, v for one sequence of `len` positions: [1, heads, len, d] and [1, kvHeads, len, d]. */
function sequence(dev: Device, len: number, seed: number, [h, hkv, d] = [4, 2, 16]) {
  return {
    q: T.randn([1, h, len, d], { device: dev, seed }),
    k: T.randn([1, hkv, len, d], { device: dev, seed: seed + 1 }),
    v: T.randn([1, hkv, len, d], { device: dev, seed: seed + 2 }),
  };
}

/** Positions t0..t1 of a [1, H, len, d] tensor. */
const span = (x: Tensor, t0: number, t1: number) => T.contiguous(T.slice(x, 2, t0, t1));

describe.each(all)('decoding with a KV cache ($info.backend)', (dev) => {
  it('token-by-token decoding equals full causal attention, across cache growth and GQA', async () => {
    const [b, h, hkv, d, total] = [2, 4, 2, 32, 300];
    const q = T.randn([b, h, total, d], { device: dev, seed: 1 });
    const k = T.randn([b, hkv, total, d], { device: dev, seed: 2 });
    const v = T.randn([b, hkv, total, d], { device: dev, seed: 3 });
    const full = (await attention(q, k, v, { causal: true }).toArray()) as number[][][][];
    const cache = new KVCache({ rows: b, kvHeads: hkv, headDim: d, pageSize: 64, device: dev });
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
    expect(cache.lengths).toEqual([total, total]);
    expect(cache.capacity).toBe(512);
    expect(cache.capacity % cache.pageSize).toBe(0);
  });

  it('rows at different lengths each decode as if alone, in any order and subset', async () => {
    // Three sequences of 40, 7 and 150 positions (150 crosses a page), each prefilled into its
    // own row; then 3 more tokens for rows 2 and 0 only, listed in that order.
    const lengths = [43, 10, 153];
    const seqs = lengths.map((n, i) => sequence(dev, n, 10 * i + 1));
    const cache = new KVCache({ rows: 3, kvHeads: 2, headDim: 16, pageSize: 64, device: dev });
    for (const [r, s] of seqs.entries()) {
      const n = lengths[r]! - (r === 1 ? 0 : 3);
      cache.append(span(s.k, 0, n), span(s.v, 0, n), { rows: [r] });
    }
    expect(cache.lengths).toEqual([40, 10, 150]);
    const order = [2, 0];
    const cat = (pick: (s: (typeof seqs)[number]) => Tensor, t0: (r: number) => number) =>
      T.cat(
        order.map((r) => span(pick(seqs[r]!), t0(r), t0(r) + 3)),
        0,
      );
    cache.append(
      cat(
        (s) => s.k,
        (r) => lengths[r]! - 3,
      ),
      cat(
        (s) => s.v,
        (r) => lengths[r]! - 3,
      ),
      { rows: order },
    );
    expect(cache.lengths).toEqual([43, 10, 153]);
    const out = decodeAttention(
      cat(
        (s) => s.q,
        (r) => lengths[r]! - 3,
      ),
      cache,
      { causal: true, rows: order },
    );
    const per = 4 * 3 * 16;
    const got = await out.data();
    for (const [i, r] of order.entries()) {
      const s = seqs[r]!;
      const alone = T.slice(attention(s.q, s.k, s.v, { causal: true }), 2, lengths[r]! - 3);
      expect(
        maxRelError(got.slice(i * per, (i + 1) * per), await T.contiguous(alone).data()),
      ).toBeLessThan(2e-5);
    }
  });

  it('a reset row takes a new prompt while the other rows keep their state', async () => {
    const cache = new KVCache({ rows: 2, kvHeads: 2, headDim: 16, device: dev });
    const [a, b, c] = [sequence(dev, 12, 1), sequence(dev, 20, 2), sequence(dev, 5, 3)];
    cache.append(T.cat([span(a.k, 0, 12), span(b.k, 0, 12)], 0), T.cat([a.v, span(b.v, 0, 12)]));
    cache.append(span(b.k, 12, 20), span(b.v, 12, 20), { rows: [1] });
    cache.reset(0);
    expect(cache.lengths).toEqual([0, 20]);
    cache.append(c.k, c.v, { rows: [0] });
    const last = (s: ReturnType<typeof sequence>, n: number) =>
      T.contiguous(T.slice(attention(s.q, s.k, s.v, { causal: true }), 2, n - 1, n)).data();
    const both = await decodeAttention(T.cat([span(c.q, 4, 5), span(b.q, 19, 20)], 0), cache, {
      causal: true,
    }).data();
    expect(maxRelError(both.slice(0, 64), await last(c, 5))).toBeLessThan(2e-5);
    expect(maxRelError(both.slice(64), await last(b, 20))).toBeLessThan(2e-5);
  });

  it('truncate rolls a row back; reorder copies rows', async () => {
    const cache = new KVCache({ rows: 2, kvHeads: 2, headDim: 16, device: dev });
    const [a, b] = [sequence(dev, 9, 4), sequence(dev, 9, 5)];
    cache.append(T.cat([a.k, b.k], 0), T.cat([a.v, b.v], 0));
    cache.truncate(1, 6);
    cache.reorder([1, 1]); // both rows now hold b's first 6 positions
    expect(cache.lengths).toEqual([6, 6]);
    const q = span(b.q, 5, 6);
    const out = await decodeAttention(T.cat([q, q], 0), cache, { causal: true }).data();
    const want = await T.contiguous(
      T.slice(attention(span(b.q, 0, 6), span(b.k, 0, 6), span(b.v, 0, 6), { causal: true }), 2, 5),
    ).data();
    expect(maxRelError(out.slice(0, 64), want)).toBeLessThan(2e-5);
    expect(maxRelError(out.slice(64), want)).toBeLessThan(2e-5);
  });
});

describe('decodeAttention errors', () => {
  it('names an empty row, rows that do not match q, and unknown options', () => {
    const cache = new KVCache({ rows: 2, kvHeads: 2, headDim: 8, device: cpu });
    const kv = T.zeros([1, 2, 1, 8], { device: cpu });
    expect(() => decodeAttention(kv, cache, { rows: [0] })).toThrow(
      /cache row 0 holds 0 positions, fewer than the 1 queries/,
    );
    cache.append(kv, kv, { rows: [1] });
    expect(() =>
      decodeAttention(kv, cache, { rows: [1], causal: true, windw: 2 } as never),
    ).toThrow(/decodeAttention: unknown option "windw"/);
    expect(() => decodeAttention(kv, cache)).toThrow(/q has 1 rows, 2 cache rows are listed/);
  });
});
