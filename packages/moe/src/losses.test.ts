import { balanceProbabilities, loadBalancingLoss, routerZLoss } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { reference, toTensor } from './test-utils/reference.js';

const { all } = await testDevices();

describe.each(all)('auxiliary losses ($info.backend)', (dev) => {
  for (const [name, c] of Object.entries(reference)) {
    it(`${name}: load-balancing and z-loss as the PyTorch reference; Hugging Face's is k times ours`, async () => {
      const x = T.reshape(toTensor(c.x, dev), [-1, c.config.dim]);
      const logits = T.matmul(x, T.transpose(toTensor(c.params['gate.weight']!, dev)));
      const scores = c.config.scoring === 'softmax' ? T.softmax(logits) : T.sigmoid(logits);
      const counts = T.tensor(Int32Array.from(c.counts), { device: dev });
      const lb = await loadBalancingLoss(
        balanceProbabilities(scores, c.config.scoring),
        counts,
        c.config.top_k,
      ).item();
      expect(lb).toBeCloseTo(c.load_balance, 5);
      expect(lb * c.config.top_k).toBeCloseTo(c.load_balance_hf, 5);
      expect(await routerZLoss(logits).item()).toBeCloseTo(c.z_loss, 4);
    });
  }

  it('is 1 for perfectly balanced routing, whatever k', async () => {
    for (const k of [1, 2, 4]) {
      const probs = T.full([8, 4], 0.25, { device: dev });
      const counts = T.full([4], (8 * k) / 4, { device: dev });
      expect(await loadBalancingLoss(probs, counts, k).item()).toBeCloseTo(1, 6);
    }
  });

  it('gradients through the probabilities and the logits match finite differences', async () => {
    const counts = T.tensor(Int32Array.from([5, 1, 0, 2]), { device: dev });
    const lbErr = await gradCheck(
      dev,
      (logits) => loadBalancingLoss(T.softmax(logits), counts, 2),
      [smoothValues(4 * 4, 1)],
      [[4, 4]],
    );
    expect(lbErr).toBeLessThan(1e-2);
    const zErr = await gradCheck(
      dev,
      (logits) => routerZLoss(logits),
      [smoothValues(5 * 3, 2)],
      [[5, 3]],
    );
    expect(zErr).toBeLessThan(1e-2);
  });

  it('rejects shapes that do not fit', () => {
    const probs = T.zeros([3, 4], { device: dev });
    expect(() => loadBalancingLoss(probs, T.zeros([3], { device: dev }), 1)).toThrow(
      'loadBalancingLoss: probs must be [tokens, E] and counts [E], got [3, 4] and [3]',
    );
    expect(() => loadBalancingLoss(probs, T.zeros([4], { device: dev }), 0)).toThrow(
      'loadBalancingLoss: topK must be a positive integer, got 0',
    );
    expect(() => routerZLoss(T.zeros([4], { device: dev }))).toThrow(
      'routerZLoss: logits must be [tokens, E], got [4]',
    );
  });
});
