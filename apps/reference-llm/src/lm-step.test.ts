import { AdamW } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { batchAt } from './data.js';
import { languageModelStep, nextTokenLoss } from './lm-step.js';
import { micro } from './test-utils/fixtures.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('languageModelStep', () => {
  it('returns the batch loss before the update, frees the batch, and lowers the loss on that batch', async () => {
    const model = new DecoderLM({ ...micro.model, vocabSize: 64 }, device);
    const optimizer = new AdamW(model.parameters(), { lr: 1e-2 });
    const ids = Int32Array.from({ length: 200 }, (_, i) => (i * 7) % 64);
    const batch = () => batchAt(ids, 2, 16, 3, device);
    const probe = batch();
    const before = await T.noGrad(() => nextTokenLoss(model, probe)).item();
    const b = batch();
    expect(await languageModelStep(model, optimizer, b)).toBeCloseTo(before, 5);
    expect(() => b.x.assertAlive('x')).toThrow();
    for (let i = 0; i < 20; i++) await languageModelStep(model, optimizer, batch());
    const after = await T.noGrad(() => nextTokenLoss(model, probe)).item();
    expect(after).toBeLessThan(before - 1);
  });
});
