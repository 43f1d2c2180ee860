import { Linear, Module } from '@tessera/nn';
import { AdamW } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM, type FeedForward, type FeedForwardSpec } from '@tessera/transformer';
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

/** A feed-forward layer with an auxiliary loss: a constant 0.25 (as a mixture of experts adds its balancing loss). */
class ConstantAuxFfn extends Module implements FeedForward {
  proj: Linear;
  #loss: T.Tensor | undefined;
  constructor(spec: FeedForwardSpec) {
    super();
    this.proj = new Linear(spec.dModel, spec.dModel, { device: spec.device, seed: spec.seed });
  }
  forward(x: T.Tensor): T.Tensor {
    this.#loss = T.full([], 0.25, { device: x.device });
    return this.proj.forward(x);
  }
  auxLoss(): T.Tensor | undefined {
    return this.#loss;
  }
}

describe('nextTokenLoss', () => {
  it("adds the layers' auxiliary losses to the cross-entropy", async () => {
    const model = new DecoderLM(
      { ...micro.model, vocabSize: 64, layers: 2, ffn: (spec) => new ConstantAuxFfn(spec) },
      device,
    );
    const batch = batchAt(
      Int32Array.from({ length: 100 }, (_, i) => i % 64),
      2,
      8,
      1,
      device,
    );
    const loss = await T.noGrad(() => nextTokenLoss(model, batch)).item();
    const logits = T.noGrad(() => model.forward(batch.x));
    const ce = await T.crossEntropy(T.reshape(logits, [-1, 64]), batch.y).item();
    expect(loss).toBeCloseTo(ce + 2 * 0.25, 5);
  });
});
