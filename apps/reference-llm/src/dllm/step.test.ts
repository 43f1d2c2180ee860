import { MaskedDiffusionLM, maskedDiffusionLoss, maskTokens } from '@tessera/dllm';
import { AdamW } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { diffusionLoss, diffusionStep } from './step.js';

const { cpu } = await testDevices();
const config = { vocabSize: 20, dModel: 16, layers: 1, heads: 2, maxSeqLen: 8, seed: 1 };
const ids = () =>
  T.tensor(
    Int32Array.from({ length: 16 }, (_, i) => (i * 3) % 19),
    { shape: [2, 8], device: cpu },
  );

describe('diffusionLoss and diffusionStep', () => {
  it("is LLaDA's loss on the batch masked with the step's seed", async () => {
    const model = new MaskedDiffusionLM(config, { maskId: 19 }, cpu);
    const x = ids();
    const { input, masked, t } = maskTokens(x, { maskId: 19, seed: 5 });
    const expected = await maskedDiffusionLoss(model.forward(input), x, masked, t).item();
    expect(await diffusionLoss(model, x, 5).item()).toBe(expected);
    expect(await diffusionLoss(model, x, 6).item()).not.toBe(expected);
  });

  it('updates the weights, returns the loss before the update and frees the batch', async () => {
    const model = new MaskedDiffusionLM(config, { maskId: 19 }, cpu);
    const optimizer = new AdamW(model.parameters(), { lr: 1e-2 });
    const before = await diffusionLoss(model, ids(), 3).item();
    const x = ids();
    expect(await diffusionStep(model, optimizer, x, 3)).toBeCloseTo(before, 6);
    expect(x.isDisposed).toBe(true);
    expect(await diffusionLoss(model, ids(), 3).item()).toBeLessThan(before);
  });
});
