import { sftLoss } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { B, T: L, V } = fx.inputs;

describe.each(all)('sftLoss ($info.backend)', (dev) => {
  const ids = t(dev, fx.inputs.ids, [B, L], 'i32');

  for (const variant of ['completionOnly', 'allTokens'] as const) {
    it(`${variant}: matches Hugging Face's causal-LM loss over −100 labels (PyTorch), value and gradient`, async () => {
      const want = fx.sft[variant];
      const logits = t(dev, fx.inputs.logits, [B, L, V]).requiresGrad_();
      const loss = sftLoss(logits, ids, t(dev, want.lossMask, [B, L]));
      expect(await loss.item()).toBeCloseTo(want.loss, 5);
      loss.backward();
      expect(maxRelError(await logits.grad!.data(), want.gradLogits)).toBeLessThan(1e-5);
    });
  }

  it('tokensInBatch divides the summed loss instead of this batch’s token count', async () => {
    const want = fx.sft.allTokens;
    const logits = t(dev, fx.inputs.logits, [B, L, V]);
    const mask = t(dev, want.lossMask, [B, L]);
    const targets = want.lossMask.filter((m: number, i: number) => m === 1 && i % L > 0).length;
    const loss = await sftLoss(logits, ids, mask, { tokensInBatch: 40 }).item();
    expect(loss).toBeCloseTo((want.loss * targets) / 40, 5);
  });
});

describe('sftLoss: errors and gradients', () => {
  it('names the bad argument', () => {
    const logits = T.zeros([2, 3, 5], { device: cpu });
    const mask = T.ones([2, 3], { device: cpu });
    expect(() => sftLoss(logits, T.zeros([2, 3], { device: cpu }), mask)).toThrow(
      /sftLoss: ids must be a \[B, T\] i32 tensor, got \[2, 3\] f32/,
    );
    expect(() => sftLoss(logits, T.zeros([2, 4], { device: cpu, dtype: 'i32' }), mask)).toThrow(
      /sftLoss: ids has T = 4/,
    );
    const one = T.zeros([2, 1], { device: cpu, dtype: 'i32' });
    expect(() =>
      sftLoss(T.zeros([2, 1, 5], { device: cpu }), one, T.ones([2, 1], { device: cpu })),
    ).toThrow(/at least 2 tokens/);
    const ids = T.zeros([2, 3], { device: cpu, dtype: 'i32' });
    expect(() => sftLoss(logits, ids, mask, { tokensInBatch: 0 })).toThrow(/tokensInBatch must be/);
  });

  it('gradient matches finite differences', async () => {
    const ids = T.tensor(
      [
        [1, 3, 0],
        [2, 2, 4],
      ],
      { device: cpu, dtype: 'i32' },
    );
    const mask = T.tensor(
      [
        [0, 1, 1],
        [0, 0, 1],
      ],
      { device: cpu },
    );
    const f = (logits: T.Tensor) => sftLoss(logits, ids, mask);
    expect(await gradCheck(cpu, f, [smoothValues(30, 5)], [[2, 3, 5]])).toBeLessThan(1e-2);
  });
});
