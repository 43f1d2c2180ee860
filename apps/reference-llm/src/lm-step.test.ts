import type { MoE } from '@tessera/moe';
import { Linear, Module } from '@tessera/nn';
import { AdamW } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM, type FeedForward, type FeedForwardSpec } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { batchAt } from './batch.js';
import { languageModelStep, nextTokenLoss, validationLoss } from './lm-step.js';
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

  it("moves an auxiliary-loss-free MoE's selection biases after the update, by ±γ", async () => {
    const model = new DecoderLM(
      {
        ...micro.model,
        vocabSize: 64,
        ffn: 'moe',
        moe: { experts: 4, topK: 1, hidden: 16, biasUpdateRate: 0.25 },
      },
      device,
    );
    const optimizer = new AdamW(model.parameters(), { lr: 1e-2 });
    const ids = Int32Array.from({ length: 200 }, (_, i) => (i * 7) % 64);
    await languageModelStep(model, optimizer, batchAt(ids, 2, 16, 3, device));
    const mlp = model.model.layers[0]!.mlp as MoE;
    const bias = (await mlp.gate.e_score_correction_bias!.toArray()) as number[];
    expect(bias.some((b) => b !== 0)).toBe(true);
    expect(bias.every((b) => [0.25, 0, -0.25].includes(b))).toBe(true);
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

describe('validationLoss', () => {
  it('is the mean next-token NLL over the seeded windows, as a float64 log-softmax on the host computes it', async () => {
    const model = new DecoderLM({ ...micro.model, vocabSize: 64 }, cpu);
    const ids = Int32Array.from({ length: 300 }, (_, i) => (i * 13 + (i >> 3)) % 64);
    const o = { batches: 3, batchSize: 2, seqLen: 8, seed: 40 };
    let nll = 0;
    let count = 0;
    for (let b = 0; b < o.batches; b++) {
      const { x, y } = batchAt(ids, o.batchSize, o.seqLen, o.seed + b, cpu);
      const logits = await T.noGrad(() => model.forward(x)).data();
      const targets = await y.data();
      for (let row = 0; row < targets.length; row++) {
        const z = Array.from(logits.subarray(row * 64, row * 64 + 64));
        const max = Math.max(...z);
        const logSum = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
        nll += logSum - z[targets[row]!]!;
        count++;
      }
    }
    expect(await validationLoss(model, ids, o)).toBeCloseTo(nll / count, 5);
    // Other windows give another figure: the seed chooses them.
    expect(await validationLoss(model, ids, { ...o, seed: 41 })).not.toBeCloseTo(nll / count, 5);
  });
});
