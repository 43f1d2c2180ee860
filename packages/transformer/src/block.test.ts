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
});
