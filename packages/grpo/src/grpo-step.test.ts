import {
  groupAdvantages,
  grpoLoss,
  grpoStep,
  type LossType,
  numericAnswerReward,
  sampleGroups,
} from '@tessera/grpo';
import { AdamW, SGD } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { BigramPolicy } from './test-utils/bandit.js';

const { all, cpu } = await testDevices();
const V = 6;

/** Two prompts of different lengths, three completions each (lengths 1 to 3), and their rewards. */
const groups = {
  prompts: [[0, 1], [2]],
  completions: [[3], [4, 5], [1, 2, 3], [5, 5], [0], [3, 1, 4]],
  rewards: [1, 0, 0.5, 0, 0, 1],
};

/** Host log-softmax of a row of logits divided by the temperature. */
function logSoftmax(row: ArrayLike<number>, temperature: number): number[] {
  const x = Array.from(row, (v) => v / temperature);
  const top = Math.max(...x);
  const z = Math.log(x.reduce((s, v) => s + Math.exp(v - top), 0)) + top;
  return x.map((v) => v - z);
}

/**
 * The batch `grpoStep` should train on, built on the host from the bigram table: rows of prompt +
 * completion right-padded to 5 tokens, the completion mask, and each completion token's log-prob.
 */
async function hostBatch(policy: BigramPolicy, temperature: number) {
  const table = await policy.table.data();
  const L = 5;
  const logprobs: number[] = [];
  const mask: number[] = [];
  groups.completions.forEach((c, b) => {
    const row = [...groups.prompts[Math.floor(b / 3)]!, ...c];
    for (let t = 0; t < L; t++) {
      const scored = t >= row.length - c.length && t < row.length;
      mask.push(scored ? 1 : 0);
      const prev = row[t - 1]!;
      logprobs.push(
        scored ? logSoftmax(table.slice(prev * V, (prev + 1) * V), temperature)[row[t]!]! : 0,
      );
    }
  });
  return { logprobs, mask, shape: [6, L] };
}

describe.each(all)('grpoStep ($info.backend)', (dev) => {
  for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as LossType[]) {
    it(`${lossType}: the first update's loss and KL are grpoLoss's on the same batch`, async () => {
      const policy = new BigramPolicy(dev, V, 1);
      const reference = new BigramPolicy(dev, V, 2).copy();
      const options = {
        groupSize: 3,
        lossType,
        beta: 0.04,
        epsilonHigh: 0.28,
        temperature: 0.7,
        ...(lossType === 'dr_grpo' && { maxCompletionLength: 4 }),
      };
      const host = await hostBatch(policy, 0.7);
      const refHost = await hostBatch(reference, 0.7);
      const x = (data: number[]) => T.tensor(data, { shape: host.shape, device: dev });
      const want = grpoLoss(
        {
          logprobs: x(host.logprobs),
          refLogprobs: x(refHost.logprobs),
          advantages: groupAdvantages(T.tensor(groups.rewards, { device: dev }), { groupSize: 3 }),
          mask: x(host.mask),
        },
        options.maxCompletionLength
          ? { lossType, beta: 0.04, epsilonHigh: 0.28, maxCompletionLength: 4 }
          : { lossType, beta: 0.04, epsilonHigh: 0.28 },
      );
      const r = await grpoStep(
        { policy, reference },
        new SGD([policy.table], { lr: 0.1 }),
        groups,
        options,
      );
      expect(r.updates).toHaveLength(1);
      expect(maxRelError([r.updates[0]!.loss], [await want.loss.item()])).toBeLessThan(1e-5);
      expect(maxRelError([r.kl!], [await want.kl!.item()])).toBeLessThan(1e-5);
      expect(r.loss).toBe(r.updates[0]!.loss);
      expect(r.tokens).toBe(12);
    });
  }

  it('old log-probs are stored once: ratio 1 on the first pass, not on the second', async () => {
    const policy = new BigramPolicy(dev, V, 3);
    const r = await grpoStep({ policy }, new SGD([policy.table], { lr: 2 }), groups, {
      groupSize: 3,
      iterations: 3,
    });
    expect(r.updates.map((u) => u.iteration)).toEqual([0, 1, 2]);
    const [first, second, third] = r.updates;
    expect(first!.ratioDeviation).toBeLessThan(1e-5);
    expect(first!.clipRegion).toBe(0);
    expect(r.kl).toBeUndefined(); // β = 0 and no reference
    // Had the old log-probs been recomputed each pass, every pass would see ratio 1.
    expect(second!.ratioDeviation).toBeGreaterThan(0.05);
    expect(third!.ratioDeviation).toBeGreaterThan(second!.ratioDeviation);
    expect(third!.clipRegion).toBeGreaterThan(0);
  });

  it('minibatches: each pass updates on every row once, in shares', async () => {
    const policy = new BigramPolicy(dev, V, 4);
    const r = await grpoStep({ policy }, new SGD([policy.table], { lr: 0.5 }), groups, {
      groupSize: 3,
      iterations: 2,
      minibatches: 3,
      seed: 5,
    });
    expect(r.updates.map((u) => u.iteration)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(r.updates[0]!.ratioDeviation).toBeLessThan(1e-5);
    expect(r.updates.at(-1)!.ratioDeviation).toBeGreaterThan(0);
  });

  for (const [lossType, scaleRewards] of [
    ['grpo', 'group'],
    ['dr_grpo', 'none'],
    ['dapo', 'group'],
  ] as const) {
    it(`${lossType}: on a bandit (reward 1 for the answer "1") the mean reward rises`, async () => {
      const policy = new BigramPolicy(dev, V, 5, 0.1);
      const reference = policy.copy();
      const optimizer = new AdamW([policy.table], { lr: 0.1, weightDecay: 0 });
      const prompts = [[0], [2], [3], [4]];
      const rewards: number[] = [];
      const kls: number[] = [];
      let first: number | undefined;
      for (let step = 0; step < 12; step++) {
        const completions = await sampleGroups(policy, prompts, {
          groupSize: 8,
          maxNewTokens: 1,
          seed: 100 * step,
        });
        const scores = completions.map((c) =>
          numericAnswerReward(`<answer>${c[0]}</answer>`, { answer: 1 }),
        );
        rewards.push(scores.reduce((a, b) => a + b, 0) / scores.length);
        const r = await grpoStep(
          { policy, reference },
          optimizer,
          { prompts, completions, rewards: scores },
          {
            groupSize: 8,
            lossType,
            scaleRewards,
            beta: 0.01,
            iterations: 2,
            ...(lossType === 'dr_grpo' && { maxCompletionLength: 1 }),
            ...(lossType === 'dapo' && { epsilonHigh: 0.28 }),
          },
        );
        kls.push(r.kl!);
        first ??= r.updates[0]!.kl;
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(rewards.slice(0, 2))).toBeLessThan(0.4); // about 1/6 at the start
      expect(mean(rewards.slice(-2))).toBeGreaterThan(0.7);
      expect(first).toBeCloseTo(0, 6); // the policy starts as the reference
      expect(Math.max(...kls)).toBeLessThan(5);
    });
  }
});

describe('grpoStep: errors', () => {
  const policy = new BigramPolicy(cpu, V, 6);
  const sgd = new SGD([policy.table], { lr: 0.1 });
  it('names mismatched groups, a missing reference and bad options', async () => {
    await expect(grpoStep({ policy }, sgd, groups, { groupSize: 2 })).rejects.toThrow(
      /grpoStep: 6 completions for 2 prompts; expected groupSize 2 completions per prompt/,
    );
    await expect(
      grpoStep({ policy }, sgd, { ...groups, rewards: [1, 0] }, { groupSize: 3 }),
    ).rejects.toThrow(/grpoStep: 2 rewards for 6 completions/);
    await expect(grpoStep({ policy }, sgd, groups, { groupSize: 3, beta: 0.1 })).rejects.toThrow(
      /beta 0.1 > 0 needs models.reference/,
    );
    await expect(
      grpoStep({ policy }, sgd, groups, { groupSize: 3, minibatches: 7 }),
    ).rejects.toThrow(/minibatches must be an integer >= 1 and <= 6, got number 7/);
    await expect(
      grpoStep({ policy }, sgd, groups, { groupSize: 3, lr: 1 } as never),
    ).rejects.toThrow(/lr/);
    await expect(
      grpoStep({ policy }, sgd, groups, { groupSize: 3, lossType: 'dr_grpo' }),
    ).rejects.toThrow(/maxCompletionLength/);
  });
});
