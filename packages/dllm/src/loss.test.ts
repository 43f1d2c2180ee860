import { maskedDiffusionLoss, maskedDiffusionNelbo } from '@tessera/dllm';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { type LossCase, reference } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();

function inputs(c: LossCase, device: T.Device) {
  const [b, l, v] = c.shape;
  return {
    logits: T.tensor(c.logits, { shape: [b, l, v], device, requiresGrad: true }),
    targets: T.tensor(Int32Array.from(c.ids), { shape: [b, l], device }),
    masked: T.tensor(c.masked, { shape: [b, l], device }),
    t: T.tensor(c.t, { device }),
  };
}

describe.each(all)('masked diffusion loss against PyTorch ($info.backend)', (device) => {
  it("pre-training: LLaDA's token_loss.sum() / (b·l), its gradient, and each row's NELBO", async () => {
    const c = reference.losses.pretrain;
    const { logits, targets, masked, t } = inputs(c, device);
    const loss = maskedDiffusionLoss(logits, targets, masked, t);
    loss.backward();
    expect(await loss.item()).toBeCloseTo(c.loss, 5);
    expect(maxRelError(await logits.grad!.data(), c.grad)).toBeLessThan(1e-5);
    const nelbo = await maskedDiffusionNelbo(logits, targets, masked, t).data();
    expect(maxRelError(nelbo, c.nelbo)).toBeLessThan(1e-5);
  });

  it('SFT: each row divided by its answer length, then the batch mean, and its gradient', async () => {
    const c = reference.losses.sft;
    const { logits, targets, masked, t } = inputs(c, device);
    const [, length] = c.shape;
    const answerLengths = T.tensor(
      c.promptLengths!.map((p) => length - p),
      { device },
    );
    const loss = maskedDiffusionLoss(logits, targets, masked, t, { answerLengths });
    loss.backward();
    expect(await loss.item()).toBeCloseTo(c.loss, 5);
    expect(maxRelError(await logits.grad!.data(), c.grad)).toBeLessThan(1e-5);
  });
});

describe('masked diffusion loss errors', () => {
  it('names the tensor, its shape and what was expected', () => {
    const { logits, targets, masked, t } = inputs(reference.losses.pretrain, cpu);
    expect(() => maskedDiffusionLoss(logits, T.cast(targets, 'f32'), masked, t)).toThrow(
      'maskedDiffusionNelbo: targets must be i32 [batch, T], got f32 [3, 7]',
    );
    expect(() => maskedDiffusionLoss(T.slice(logits, 1, 0, 6), targets, masked, t)).toThrow(
      'maskedDiffusionNelbo: logits must be [3, 7, vocab], got f32 [3, 6, 11]',
    );
    expect(() => maskedDiffusionLoss(logits, targets, T.slice(masked, 0, 0, 2), t)).toThrow(
      'maskedDiffusionNelbo: masked must be f32 [3, 7], got f32 [2, 7]',
    );
    expect(() => maskedDiffusionLoss(logits, targets, masked, T.slice(t, 0, 0, 1))).toThrow(
      'maskedDiffusionNelbo: t must be f32 [3], got f32 [1]',
    );
    expect(() =>
      maskedDiffusionLoss(logits, targets, masked, t, { answerLengths: T.ones([2]) }),
    ).toThrow('maskedDiffusionLoss: answerLengths must be f32 [3], got f32 [2]');
    expect(() => maskedDiffusionLoss(logits, targets, masked, t, { lengths: t } as never)).toThrow(
      /maskedDiffusionLoss: unknown option "lengths"/,
    );
  });
});
