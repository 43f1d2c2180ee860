import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { Trunk } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { small } from './test-utils/fixtures.js';

const { cpu } = await testDevices();

describe('Block', () => {
  it('is pre-norm residual: x + attn(norm x), then + ffn(norm ·)', async () => {
    const trunk = new Trunk({ ...small, dropout: 0.5 }, { causal: true }, cpu);
    const block = trunk.layers[0]!;
    const ctx = { rope: trunk.rope };
    const x = T.randn([1, 5, 32], { device: cpu, seed: 4 });
    trunk.eval();
    const attnOut = block.self_attn.forward(block.input_layernorm.forward(x), ctx);
    const h = T.add(x, attnOut);
    const want = T.add(h, block.mlp.forward(block.post_attention_layernorm.forward(h)));
    expect(maxRelError(await block.forward(x, ctx).data(), await want.data())).toBeLessThan(1e-6);
    // In training, residual dropout makes the output differ.
    trunk.train();
    expect(maxRelError(await block.forward(x, ctx).data(), await want.data())).toBeGreaterThan(
      1e-3,
    );
  });

  it('stochastic depth drops whole samples, more in deeper blocks, and only in training', async () => {
    const config = { ...small, layers: 3, dropPath: 0.6 };
    const trunk = new Trunk(config, { causal: false }, cpu);
    const plain = new Trunk({ ...config, dropPath: 0 }, { causal: false }, cpu);
    const rows = 400;
    const x = T.randn([rows, 3, 32], { device: cpu, seed: 5 });
    const ctx = { rope: trunk.rope };
    // Rows left unchanged by a block: both of its branches were dropped, p² of the rows.
    const unchanged = async (layer: number) => {
      T.manualSeed(layer + 10);
      const y = await trunk.layers[layer]!.forward(x, ctx).data();
      const xs = await x.data();
      let n = 0;
      for (let r = 0; r < rows; r++) {
        const row = (a: typeof xs) => a.subarray(r * 96, (r + 1) * 96);
        if (row(y).every((v, i) => v === row(xs)[i])) n++;
      }
      return n / rows;
    };
    expect(await unchanged(0)).toBe(0); // the first block's rate is 0
    const p1 = 0.3; // 0.6 · 1/2
    const p2 = 0.6;
    // Binomial with 400 rows: within 4 standard deviations of p².
    expect(Math.abs((await unchanged(1)) - p1 * p1)).toBeLessThan(4 * Math.sqrt((p1 * p1) / rows));
    expect(Math.abs((await unchanged(2)) - p2 * p2)).toBeLessThan(4 * Math.sqrt((p2 * p2) / rows));
    // In evaluation it is the identity: the output of the same weights without it.
    plain.loadStateDict(trunk.stateDict());
    trunk.eval();
    plain.eval();
    const a = await trunk.forward(x).data();
    expect(maxRelError(a, await plain.forward(x).data())).toBe(0);
  });
});
