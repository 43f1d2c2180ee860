import { TopKRouter } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { reference, toTensor } from './test-utils/reference.js';

const { all } = await testDevices();

describe.each(all)('TopKRouter ($info.backend)', (dev) => {
  for (const [name, c] of Object.entries(reference)) {
    it(`${name}: chooses and weights the experts as the PyTorch reference`, async () => {
      const k = c.config;
      const router = new TopKRouter(k.dim, {
        experts: k.experts,
        topK: k.top_k,
        scoring: k.scoring,
        normalize: k.normalize,
        scale: k.scale,
        selectionBias: k.bias,
        device: dev,
      });
      const dict: Record<string, T.Tensor> = { weight: toTensor(c.params['gate.weight']!, dev) };
      if (c.bias) dict.e_score_correction_bias = toTensor(c.bias, dev);
      router.loadStateDict(dict);
      const routing = router.route(T.reshape(toTensor(c.x, dev), [-1, k.dim]));
      expect(await routing.indices.toArray()).toEqual(c.indices);
      expect(maxRelError(await routing.weights.data(), c.weights.data)).toBeLessThan(1e-5);
    });
  }

  it('normalises by default only when k > 1, so a top-1 weight stays the probability', async () => {
    const x = T.tensor(smoothValues(4 * 3, 1), { shape: [4, 3], device: dev });
    const top1 = new TopKRouter(3, { experts: 5, topK: 1, seed: 1, device: dev });
    const { scores, weights, indices } = top1.route(x);
    expect(top1.normalize).toBe(false);
    const p = await T.gather(scores, 1, indices).data();
    expect(maxRelError(await weights.data(), p)).toBe(0);
    expect(Math.max(...p)).toBeLessThan(1);
    const top2 = new TopKRouter(3, { experts: 5, topK: 2, seed: 1, device: dev });
    const sums = await T.sum(top2.route(x).weights, -1).data();
    expect(maxRelError(sums, [1, 1, 1, 1])).toBeLessThan(1e-6);
  });

  it('jitters the router input only while training, within ±jitter', async () => {
    const x = T.tensor(smoothValues(6 * 4, 2), { shape: [6, 4], device: dev });
    const router = new TopKRouter(4, { experts: 3, topK: 1, jitter: 0.05, seed: 3, device: dev });
    const clean = await T.matmul(x, T.transpose(router.weight)).data();
    const first = await router.route(x).logits.data();
    const second = await router.route(x).logits.data();
    expect(maxRelError(first, clean)).toBeGreaterThan(1e-4);
    expect(maxRelError(second, first)).toBeGreaterThan(1e-4);
    // |Σ x·u·w − Σ x·w| ≤ jitter · Σ |x·w| per logit.
    const bound = await T.matmul(T.abs(x), T.transpose(T.abs(router.weight))).data();
    for (let i = 0; i < clean.length; i++)
      expect(Math.abs(first[i]! - clean[i]!)).toBeLessThanOrEqual(0.05 * bound[i]! + 1e-6);
    router.eval();
    expect(maxRelError(await router.route(x).logits.data(), clean)).toBeLessThan(1e-6);
  });

  it('rejects bad options and inputs', () => {
    expect(() => new TopKRouter(4, { experts: 3, topK: 4 })).toThrow(
      'TopKRouter: topK must be an integer in [1, experts = 3], got 4',
    );
    expect(() => new TopKRouter(4, { experts: 3, topK: 1, scoring: 'tanh' as never })).toThrow(
      `TopKRouter: scoring must be 'softmax' or 'sigmoid', got "tanh"`,
    );
    expect(() => new TopKRouter(4, { experts: 3, topK: 1, jitter: 1 })).toThrow(
      'TopKRouter: jitter must be in [0, 1), got 1',
    );
    expect(() => new TopKRouter(4, { experts: 3, topK: 1, topk: 2 } as never)).toThrow(
      'TopKRouter: unknown option "topk"',
    );
    const router = new TopKRouter(4, { experts: 3, topK: 1, device: dev });
    expect(() => router.route(T.zeros([2, 5], { device: dev }))).toThrow(
      'TopKRouter: x must be [tokens, 4], got [2, 5]',
    );
  });
});
