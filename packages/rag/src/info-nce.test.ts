import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { infoNceLoss, l2Normalize } from './info-nce.js';
import { leaf, losses } from './test-utils/losses-fixture.js';

const { all } = await testDevices();

describe.each(all)('infoNceLoss ($info.backend)', (dev) => {
  it.each([
    ['with extra negatives, τ = 0.05', 'infoNce'],
    ['in-batch negatives only, τ = 1', 'infoNceSquare'],
  ])('matches MultipleNegativesRankingLoss in PyTorch %s, loss and gradients', async (_, name) => {
    const fx = losses[name]!;
    const q = leaf(dev, fx.q);
    const d = leaf(dev, fx.d);
    const loss = infoNceLoss(q, d, { temperature: fx.temperature as number });
    expect(maxRelError(await loss.data(), fx.out)).toBeLessThan(1e-5);
    loss.backward();
    expect(maxRelError(await q.grad!.data(), fx.grads[0]!)).toBeLessThan(1e-4);
    expect(maxRelError(await d.grad!.data(), fx.grads[1]!)).toBeLessThan(1e-4);
  });

  it('is near zero when each query points at its own document and away from the others', async () => {
    const eye = T.tensor(
      [
        [1, 0],
        [0, 1],
      ],
      { device: dev },
    );
    expect(await infoNceLoss(eye, eye, { temperature: 0.01 }).item()).toBeLessThan(1e-6);
  });

  it('l2Normalize scales rows to unit length', async () => {
    const x = l2Normalize(T.tensor([[3, 4]], { device: dev }));
    expect(maxRelError(await x.data(), [0.6, 0.8])).toBeLessThan(1e-6);
  });

  it('rejects a bad temperature, unknown options and shapes that do not fit', () => {
    const q = T.ones([3, 4], { device: dev });
    expect(() => infoNceLoss(q, q, { temperature: 0 })).toThrow(
      'infoNceLoss: temperature must be > 0, got 0',
    );
    expect(() => infoNceLoss(q, q, { tau: 1 } as never)).toThrow(/infoNceLoss.*tau/);
    expect(() => infoNceLoss(q, T.ones([2, 4], { device: dev }))).toThrow(
      'infoNceLoss: expected queries [B, D] and docs [N >= B, D], got [3, 4] and [2, 4]',
    );
  });
});
