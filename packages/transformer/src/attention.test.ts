import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderCache, Trunk } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { small } from './test-utils/fixtures.js';

const { all } = await testDevices();

describe.each(all)('Attention ($info.backend)', (dev) => {
  it('with a cache, rows at their own positions equal full attention over each row', async () => {
    const trunk = new Trunk(small, { causal: true }, dev);
    const attn = trunk.layers[0]!.self_attn;
    const { rope } = trunk;
    const x = [
      T.randn([1, 7, 32], { device: dev, seed: 1 }),
      T.randn([1, 3, 32], { device: dev, seed: 2 }),
    ];
    const cache = new DecoderCache({
      rows: 2,
      maxLength: 16,
      layers: 1,
      kvHeads: 2,
      headDim: 8,
      device: dev,
    });
    const ctx = (rows: number[], t: number) => ({
      rope,
      cache: cache.layers[0],
      rows,
      positions: cache.positions(rows, t, dev),
    });
    // Row 0 takes 6 positions, row 1 two; then one more each, in one call.
    T.noGrad(() => {
      attn.forward(T.contiguous(T.slice(x[0]!, 1, 0, 6)), ctx([0], 6));
      attn.forward(T.contiguous(T.slice(x[1]!, 1, 0, 2)), ctx([1], 2));
    });
    const last = T.cat([T.slice(x[1]!, 1, 2, 3), T.slice(x[0]!, 1, 6, 7)], 0);
    const got = await T.noGrad(() => attn.forward(T.contiguous(last), ctx([1, 0], 1))).data();
    for (const [i, r] of [1, 0].entries()) {
      const full = attn.forward(x[r]!, { rope });
      const want = await T.contiguous(T.slice(full, 1, x[r]!.shape[1]! - 1)).data();
      expect(maxRelError(got.slice(i * 32, (i + 1) * 32), want)).toBeLessThan(1e-4);
    }
  });

  it.each([true, false])(
    'probabilities (causal %s) are the weights forward applies to the values',
    async (causal) => {
      const trunk = new Trunk(small, { causal }, dev);
      const attn = trunk.layers[0]!.self_attn;
      const ctx = { rope: trunk.rope, mask: T.tensor([[1, 1, 1, 1, 0]], { device: dev }) };
      const x = T.randn([1, 5, 32], { device: dev, seed: 3 });
      const p = attn.probabilities(x, ctx); // [1, 4, 5, 5]
      expect(p.shape).toEqual([1, 4, 5, 5]);
      // v per query head (GQA: kv head h / 2), weighted by p, through o_proj.
      const v = T.transpose(T.reshape(attn.v_proj.forward(x), [1, 5, 2, 8]), 1, 2);
      const vq = T.reshape(T.expand(T.reshape(v, [1, 2, 1, 5, 8]), [1, 2, 2, 5, 8]), [1, 4, 5, 8]);
      const mixed = T.reshape(T.transpose(T.matmul(p, vq), 1, 2), [1, 5, 32]);
      const want = await attn.forward(x, ctx).data();
      expect(maxRelError(await attn.o_proj.forward(mixed).data(), want)).toBeLessThan(1e-4);
      const probs = await p.data();
      for (let row = 0; row < 20; row++) {
        const i = row % 5;
        expect(probs[row * 5 + 4]).toBe(0); // the padded key
        if (causal) for (let j = i + 1; j < 5; j++) expect(probs[row * 5 + j]).toBe(0);
      }
      expect(() => attn.probabilities(x, { ...ctx, cache: {} as never })).toThrow(
        /not with a KV cache/,
      );
    },
  );
});
