import { SGD } from '@tessera/optim';
import { packSequences, padSequences, sftEvalLoss, sftLoss, sftStep } from '@tessera/rlhf';
import type { ForwardOptions } from '@tessera/sampler';
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

describe.each(all)('sftStep on packed rows ($info.backend)', (dev) => {
  /** A bigram that records the packing options it was given. */
  class Recording extends Bigram {
    pending: ForwardOptions[] = [];
    override forward(ids: T.Tensor, options: ForwardOptions = {}): T.Tensor {
      // Kept past the step's tidy scope, to be read after it.
      if (options.positions) T.keep(options.positions);
      if (options.documentIds) T.keep(options.documentIds);
      this.pending.push(options);
      return super.forward(ids);
    }
  }

  it('passes position ids and document ids; a bigram (position-free) gets the padded loss', async () => {
    const packed = packSequences(examples, { length: 10 });
    expect(packed.rows).toBe(1);
    const model = new Recording(dev, 7, 8);
    const padded = await sftEvalLoss(model, batch);
    expect(model.pending.at(-1)).toEqual({}); // one example per row: no packing options
    const r = await sftEvalLoss(model, packed);
    expect(r.tokens).toBe(padded.tokens);
    expect(r.loss).toBeCloseTo(padded.loss, 5);
    const given = model.pending.at(-1)!;
    expect(Array.from(await given.positions!.data())).toEqual(Array.from(packed.positionIds));
    expect(Array.from(await given.documentIds!.data())).toEqual(Array.from(packed.documentIds));
    expect([given.positions!.dtype, given.documentIds!.dtype]).toEqual(['i32', 'f32']);
    const step = await sftStep(model, new SGD([model.table], { lr: 0.1 }), packed);
    expect(step.loss).toBeCloseTo(padded.loss, 5);
    expect(model.pending.at(-1)!.documentIds).toBeDefined();
  });
});

describe('sftStep: errors', () => {
  const model = new Bigram(cpu, 7, 6);
  const sgd = new SGD([model.table], { lr: 0.1 });
  it('names an unknown option and a bad maxGradNorm', async () => {
    await expect(sftStep(model, sgd, batch, { clip: 1 } as never)).rejects.toThrow(/clip/);
    await expect(sftStep(model, sgd, batch, { maxGradNorm: 0 })).rejects.toThrow(
      /sftStep: maxGradNorm must be a finite number > 0, got number 0/,
    );
  });
});
