import { SGD } from '@tessera/optim';
import { packSequences, padSequences, sftEvalLoss, sftLoss, sftStep } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { Bigram } from './test-utils/toy-models.js';

const { all, cpu } = await testDevices();

const examples = [
  { ids: [1, 4, 2, 5, 3], completionMask: [0, 0, 1, 1, 1] },
  { ids: [2, 6, 3], completionMask: [0, 1, 1] },
];
const batch = padSequences(examples, { length: 6 });

/** The gradient of sftLoss at the model's current weights, computed directly. */
async function directGradient(model: Bigram): Promise<{ loss: number; grad: Float32Array }> {
  const ids = T.tensor(batch.ids, { shape: [2, 6], dtype: 'i32', device: model.device });
  const mask = T.tensor(batch.lossMask, { shape: [2, 6], device: model.device });
  const loss = sftLoss(model.forward(ids), ids, mask);
  loss.backward();
  const out = { loss: await loss.item(), grad: Float32Array.from(await model.table.grad!.data()) };
  model.table.grad = null;
  return out;
}

describe.each(all)('sftStep ($info.backend)', (dev) => {
  it('takes the loss of sftLoss and one SGD step along its gradient', async () => {
    const model = new Bigram(dev, 7, 3);
    const before = (await model.table.data()).slice();
    const want = await directGradient(model);
    const r = await sftStep(model, new SGD([model.table], { lr: 0.5 }), batch, {
      maxGradNorm: 1e6,
    });
    expect(r.loss).toBeCloseTo(want.loss, 5);
    expect(r.tokens).toBe(5); // the completion tokens: 3 + 2
    const after = await model.table.data();
    const expected = before.map((w, i) => w - 0.5 * want.grad[i]!);
    expect(maxRelError(after, expected)).toBeLessThan(1e-5);
  });

  it('clips the gradient to maxGradNorm before the update', async () => {
    const model = new Bigram(dev, 7, 4);
    const before = (await model.table.data()).slice();
    await sftStep(model, new SGD([model.table], { lr: 1 }), batch, { maxGradNorm: 0.01 });
    const after = await model.table.data();
    const moved = Math.hypot(...before.map((w, i) => w - after[i]!));
    expect(moved).toBeCloseTo(0.01, 4);
  });

  it('sftEvalLoss gives the same loss without changing the weights', async () => {
    const model = new Bigram(dev, 7, 5);
    const before = (await model.table.data()).slice();
    const want = await directGradient(model);
    const r = await sftEvalLoss(model, batch);
    expect(r.loss).toBeCloseTo(want.loss, 5);
    expect(Array.from(await model.table.data())).toEqual(Array.from(before));
  });
});

describe('sftStep: errors', () => {
  const model = new Bigram(cpu, 7, 6);
  const sgd = new SGD([model.table], { lr: 0.1 });
  it('refuses packed rows (the model has no document mask)', async () => {
    const packed = packSequences(examples, { length: 10 });
    await expect(sftStep(model, sgd, packed)).rejects.toThrow(
      /sftStep: row 0 holds 2 examples; .*padSequences/,
    );
  });
  it('names an unknown option and a bad maxGradNorm', async () => {
    await expect(sftStep(model, sgd, batch, { clip: 1 } as never)).rejects.toThrow(/clip/);
    await expect(sftStep(model, sgd, batch, { maxGradNorm: 0 })).rejects.toThrow(
      /sftStep: maxGradNorm must be a finite number > 0, got number 0/,
    );
  });
});
