import { SGD } from '@tessera/optim';
import { completionLogps, dpoEval, dpoStep, preferenceBatch } from '@tessera/rlhf';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { Bigram, logSoftmax } from './test-utils/toy-models.js';

const { all, cpu } = await testDevices();

// Prompt [1, 2]; the chosen completion is [3, 4], the rejected [5] (completion mask on them).
const pair = (chosen: number[], rejected: number[]) => ({
  chosen: { ids: [1, 2, ...chosen], completionMask: [0, 0, ...chosen.map(() => 1)] },
  rejected: { ids: [1, 2, ...rejected], completionMask: [0, 0, ...rejected.map(() => 1)] },
});
const batch = preferenceBatch([pair([3, 4], [5]), pair([6], [3, 3, 0])], { length: 5 });

describe.each(all)('dpoStep ($info.backend)', (dev) => {
  it('completionLogps sums log π over completion tokens only', async () => {
    const model = new Bigram(dev, 7, 1);
    const table = await model.table.data();
    const row = (id: number) => logSoftmax(table.subarray(id * 7, id * 7 + 7));
    const lp = (prev: number, next: number) => row(prev)[next]!;
    const { logps, lengths } = completionLogps(model, batch);
    const want = [lp(2, 3) + lp(3, 4), lp(2, 6), lp(2, 5), lp(2, 3) + lp(3, 3) + lp(3, 0)];
    const got = await logps.data();
    for (const [i, w] of want.entries()) expect(got[i]).toBeCloseTo(w, 4);
    expect(Array.from(await lengths.data())).toEqual([2, 1, 1, 3]);
  });

  it('at initialisation (policy = reference) the loss is ln 2 exactly, with no margin', async () => {
    const policy = new Bigram(dev, 7, 2);
    const r = await dpoStep(policy, policy.copy(), new SGD([policy.table], { lr: 0.1 }), batch, {
      beta: 0.1,
    });
    expect(r.loss).toBeCloseTo(Math.LN2, 6);
    expect(r).toMatchObject({ accuracy: 0, margin: 0, chosenReward: 0, rejectedReward: 0 });
  });

  it('rpoAlpha adds α × the token-mean NLL of the chosen replies', async () => {
    const policy = new Bigram(dev, 7, 6);
    const table = await policy.table.data();
    const lp = (prev: number, next: number) =>
      logSoftmax(table.subarray(prev * 7, prev * 7 + 7))[next]!;
    const nll = -(lp(2, 3) + lp(3, 4) + lp(2, 6)) / 3; // chosen replies [3, 4] and [6]
    const r = await dpoEval(policy, policy.copy(), batch, { rpoAlpha: 0.5 });
    expect(r.loss).toBeCloseTo(Math.LN2 + 0.5 * nll, 5);
    expect(r.margin).toBe(0);
  });

  it('training raises the implicit reward of the chosen side over the rejected one', async () => {
    const policy = new Bigram(dev, 7, 3);
    const reference = policy.copy();
    const sgd = new SGD([policy.table], { lr: 1 });
    for (let i = 0; i < 5; i++) await dpoStep(policy, reference, sgd, batch, { beta: 0.5 });
    const r = await dpoEval(policy, reference, batch, { beta: 0.5 });
    expect(r.accuracy).toBe(1);
    expect(r.margin).toBeGreaterThan(0.5);
    expect(r.loss).toBeLessThan(Math.LN2);
  });

  for (const lossType of ['ipo', 'hinge', 'simpo'] as const) {
    it(`${lossType}: trains and evaluates`, async () => {
      const policy = new Bigram(dev, 7, 4);
      const reference = lossType === 'simpo' ? undefined : policy.copy();
      const sgd = new SGD([policy.table], { lr: 0.5 });
      const first = await dpoEval(policy, reference, batch, { lossType });
      for (let i = 0; i < 5; i++) await dpoStep(policy, reference, sgd, batch, { lossType });
      const last = await dpoEval(policy, reference, batch, { lossType });
      expect(last.loss).toBeLessThan(first.loss);
    });
  }
});

describe('dpoStep: errors', () => {
  const policy = new Bigram(cpu, 7, 5);
  const sgd = new SGD([policy.table], { lr: 0.1 });
  it('needs a reference except for SimPO, and gamma only with SimPO', async () => {
    await expect(dpoStep(policy, undefined, sgd, batch)).rejects.toThrow(
      /dpoStep: lossType 'sigmoid' needs the reference model/,
    );
    await expect(dpoStep(policy, policy, sgd, batch, { gamma: 1 })).rejects.toThrow(
      /gamma is SimPO's margin/,
    );
    await expect(dpoStep(policy, policy, sgd, batch, { lossType: 'kto' as never })).rejects.toThrow(
      /lossType must be one of 'sigmoid', 'ipo', 'hinge', 'simpo', got "kto"/,
    );
    await expect(dpoEval(policy, policy, batch, { maxGradNorm: 1 } as never)).rejects.toThrow(
      /maxGradNorm/,
    );
  });
});
