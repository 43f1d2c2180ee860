import { AdamW } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { classifierStep, confusionMatrix, evaluateClassifier } from './classifier-step.js';
import { MlpClassifier } from './mlp-classifier.js';
import { digitBatch, readMnist } from './mnist.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const digits = readMnist();
const first = Int32Array.from({ length: 64 }, (_, i) => i);

describe('classifierStep', () => {
  it('returns the loss before the update, frees the batch, and fits the batch', async () => {
    const model = new MlpClassifier(784, 32, 10, device);
    const optimizer = new AdamW(model.parameters(), { lr: 1e-2 });
    const probe = digitBatch(digits, first, device);
    const before = await T.noGrad(() => T.crossEntropy(model.forward(probe.x), probe.y)).item();
    const b = digitBatch(digits, first, device);
    expect(await classifierStep(model, optimizer, b)).toBeCloseTo(before, 5);
    expect(() => b.x.assertAlive('x')).toThrow();
    for (let i = 0; i < 30; i++)
      await classifierStep(model, optimizer, digitBatch(digits, first, device));
    const after = await evaluateClassifier(model, digits, first, device, 20);
    expect(after.loss).toBeLessThan(0.1 * before);
    expect(after.accuracy).toBe(1);
  });
});

describe('evaluateClassifier', () => {
  it('scores in batches: the loss and accuracy of one pass over every digit, the mode restored', async () => {
    const model = new MlpClassifier(784, 16, 10, device, 3);
    const indices = Int32Array.from({ length: 50 }, (_, i) => 100 + 3 * i);
    const all = digitBatch(digits, indices, device);
    const logits = T.noGrad(() => model.forward(all.x));
    const loss = await T.crossEntropy(logits, all.y).item();
    const predicted = await T.argmax(logits, -1).data();
    const labels = await all.y.data();
    const r = await evaluateClassifier(model, digits, indices, device, 16); // 16 + 16 + 16 + 2
    expect(r.loss).toBeCloseTo(loss, 5);
    expect([...r.predictions]).toEqual([...predicted]);
    expect(r.accuracy).toBe(predicted.filter((p, i) => p === labels[i]).length / 50);
    expect(model.training).toBe(true);
  });

  it('counts a confusion matrix by true row and predicted column', () => {
    const m = confusionMatrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3);
    expect(m).toEqual([
      [1, 1, 0],
      [0, 1, 0],
      [1, 0, 2],
    ]);
  });
});
