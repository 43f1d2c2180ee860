import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { attentionRollout } from '@tessera/vit';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

/** Random attention weights [B, heads, T, T]: rows that sum to 1. */
const weights = (seed: number, device: T.Device) =>
  T.softmax(T.mul(T.randn([2, 3, 4, 4], { device, seed }), 2), -1);

// The whole rollout against the PyTorch reference is in vit.test.ts (ViT.relevance).
describe.each(all)('attentionRollout ($info.backend)', (dev) => {
  it('keeps rows summing to 1, and mixes one layer with the residual', async () => {
    const a = weights(1, dev);
    const one = await attentionRollout([a]).data();
    const heads = await T.mean(a, 1).data();
    for (let i = 0; i < one.length; i++) {
      const diagonal = Math.floor(i / 4) % 4 === i % 4;
      expect(one[i]).toBeCloseTo(0.5 * heads[i]! + (diagonal ? 0.5 : 0), 6);
    }
    const r = attentionRollout([a, weights(2, dev), weights(3, dev)]);
    expect(r.shape).toEqual([2, 4, 4]);
    const rows = await T.sum(r, -1).data();
    expect(maxRelError(rows, new Float32Array(8).fill(1))).toBeLessThan(1e-6);
  });

  it('composes layers from the first up: R = Ã₂·Ã₁', async () => {
    const [a, b] = [weights(4, dev), weights(5, dev)];
    const want = T.matmul(attentionRollout([b]), attentionRollout([a]));
    expect(maxRelError(await attentionRollout([a, b]).data(), await want.data())).toBeLessThan(
      1e-6,
    );
  });
});

describe('attentionRollout errors', () => {
  it('names empty and mismatched maps', () => {
    expect(() => attentionRollout([])).toThrow(
      'attentionRollout: maps is empty; pass one per layer',
    );
    const a = weights(1, cpu);
    expect(() => attentionRollout([T.zeros([2, 4, 4], { device: cpu })])).toThrow(
      'attentionRollout: maps must be [batch, heads, T, T], got [2, 4, 4]',
    );
    expect(() => attentionRollout([a, T.zeros([2, 3, 5, 5], { device: cpu })])).toThrow(
      'attentionRollout: map 1 is [2, 3, 5, 5], map 0 [2, 3, 4, 4]',
    );
  });
});
