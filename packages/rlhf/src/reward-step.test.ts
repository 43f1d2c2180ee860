import { SGD } from '@tessera/optim';
import {
  lastTokenIndices,
  preferenceBatch,
  rewardEval,
  rewardModelLoss,
  rewardStep,
  sequenceScores,
} from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { TokenScore } from './test-utils/toy-models.js';

const { all, cpu } = await testDevices();

// Two pairs: chosen rows end in tokens 5 and 4, rejected rows in 6 and 2.
const pairs = [
  { chosen: { ids: [1, 3, 5] }, rejected: { ids: [1, 3, 4, 6] } },
  { chosen: { ids: [2, 4] }, rejected: { ids: [2, 5, 2] } },
];
const batch = preferenceBatch(pairs, { length: 5, padId: 0 });
const weights = [0, 0.1, -0.2, 0.3, 0.5, 1.5, -1];

describe.each(all)('rewardStep ($info.backend)', (dev) => {
  it('scores each row at its last real token', async () => {
    expect(lastTokenIndices(batch)).toEqual([2, 1, 3, 2]);
    const scores = sequenceScores(new TokenScore(dev, weights), batch);
    expect(Array.from(await scores.data())).toEqual(
      [1.5, 0.5, -1, -0.2].map((x) => Math.fround(x)),
    );
  });

  it('is the Bradley–Terry loss of those scores, with one SGD step along its gradient', async () => {
    const model = new TokenScore(dev, weights);
    const chosen = T.tensor([1.5, 0.5], { device: dev });
    const rejected = T.tensor([-1, -0.2], { device: dev });
    const want = rewardModelLoss(chosen, rejected, { margin: 0.5 });
    const r = await rewardStep(model, new SGD([model.weight], { lr: 1 }), batch, {
      margin: 0.5,
      maxGradNorm: 1e6,
    });
    expect(r.loss).toBeCloseTo(await want.loss.item(), 5);
    expect(r.accuracy).toBe(1);
    expect(r.margin).toBeCloseTo((2.5 + 0.7) / 2, 5);
    // d loss / d r_chosen,i = −σ(−(gap_i − m))/2: only the weights of the last tokens move.
    const grad = (gap: number) => -1 / (1 + Math.exp(gap - 0.5)) / 2;
    const expected = [...weights];
    expected[5]! -= grad(2.5);
    expected[6]! += grad(2.5);
    expected[4]! -= grad(0.7);
    expected[2]! += grad(0.7);
    expect(maxRelError(await model.weight.data(), expected)).toBeLessThan(1e-5);
  });

  it('rewardEval measures without changing the weights', async () => {
    const model = new TokenScore(dev, [0, 0, 0, 0, -1, -1, 1]);
    const r = await rewardEval(model, batch);
    expect(r.accuracy).toBe(0); // chosen 5 → −1 vs 6 → 1; 4 → −1 vs 2 → 0
    expect(r.margin).toBeCloseTo((-2 + -1) / 2, 6);
    expect(Array.from(await model.weight.data())).toEqual([0, 0, 0, 0, -1, -1, 1]);
  });
});

describe('rewardStep: errors', () => {
  const model = new TokenScore(cpu, weights);
  const sgd = new SGD([model.weight], { lr: 0.1 });
  it('names a batch that is not chosen-then-rejected rows, and unknown options', async () => {
    const odd = { ...batch, rows: 3, examples: batch.examples.slice(0, 3) };
    await expect(rewardStep(model, sgd, odd)).rejects.toThrow(/2·B rows .* got 3/);
    await expect(rewardStep(model, sgd, batch, { beta: 1 } as never)).rejects.toThrow(/beta/);
    expect(() => preferenceBatch([], { length: 4 })).toThrow(/non-empty/);
  });
});
