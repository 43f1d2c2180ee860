import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { listwiseLoss } from './listwise-loss.js';
import { leaf, losses } from './test-utils/losses-fixture.js';

const { all } = await testDevices();

describe.each(all)('listwiseLoss ($info.backend)', (dev) => {
  it('matches cross-entropy with the positive in column 0 in PyTorch, loss and gradient', async () => {
    const fx = losses.listwise!;
    const scores = leaf(dev, fx.scores);
    const loss = listwiseLoss(scores);
    expect(maxRelError(await loss.data(), fx.out)).toBeLessThan(1e-5);
    loss.backward();
    expect(maxRelError(await scores.grad!.data(), fx.grads[0]!)).toBeLessThan(1e-5);
  });

  it('with one negative is the pairwise loss −log σ(s₊ − s₋)', async () => {
    const loss = listwiseLoss(T.tensor([[2, 0.5]], { device: dev }));
    expect(await loss.item()).toBeCloseTo(Math.log1p(Math.exp(-1.5)), 6);
  });

  it('needs at least one negative per row', () => {
    expect(() => listwiseLoss(T.ones([3, 1], { device: dev }))).toThrow(
      'listwiseLoss: scores must be [B, 1 + negatives] with at least one negative, got [3, 1]',
    );
  });
});
