import { AdamW, SGD } from '@tessera/optim';
import { FixedKLController, ppoRollout, ppoStep } from '@tessera/rlhf';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { Bigram, TokenScore } from './test-utils/toy-models.js';

const { all, cpu } = await testDevices();
const V = 5;

describe.each(all)('ppoStep ($info.backend)', (dev) => {
  it('the first update sees ratio 1: nothing clipped, approximate KL 0', async () => {
    const policy = new Bigram(dev, V, 1);
    const value = new TokenScore(dev, [0, 0, 0, 0, 0]);
    const models = {
      policy,
      reference: policy.copy(),
      value,
      reward: new TokenScore(dev, [0, 1, 0, 0, 0]),
    };
    const rollout = await ppoRollout(models, [[0], [2], [4], [1]], {
      maxNewTokens: 3,
      klCoef: 0.1,
    });
    const sgd = new SGD([policy.table, value.weight], { lr: 0.1 });
    const r = await ppoStep(policy, value, sgd, rollout, { epochs: 1, minibatches: 1 });
    expect(r.updates).toBe(1);
    expect(r.clipFraction).toBe(0);
    expect(r.approxKl).toBe(0);
    expect(r.entropy).toBeGreaterThan(0);
    expect(r.entropy).toBeLessThanOrEqual(Math.log(V) + 1e-6);
    rollout.dispose();
  });

  it('on a bandit (reward 1 for token 1) the mean reward rises while the KL stays bounded', async () => {
    const policy = new Bigram(dev, V, 2, 0.1);
    const value = new TokenScore(dev, [0, 0, 0, 0, 0]);
    const models = {
      policy,
      reference: policy.copy(),
      value,
      reward: new TokenScore(dev, [0, 1, 0, 0, 0]),
    };
    const optimizer = new AdamW([policy.table, value.weight], { lr: 0.05, weightDecay: 0 });
    const kl = new FixedKLController(0.05);
    const prompts = Array.from({ length: 16 }, (_, i) => [i % V === 1 ? 0 : i % V]);
    const scores: number[] = [];
    const kls: number[] = [];
    for (let step = 0; step < 12; step++) {
      const rollout = await ppoRollout(models, prompts, {
        maxNewTokens: 1,
        klCoef: kl.value,
        seed: 100 * step,
      });
      scores.push(rollout.stats.score);
      kls.push(rollout.stats.kl);
      await ppoStep(policy, value, optimizer, rollout, { epochs: 4, minibatches: 2, seed: step });
      rollout.dispose();
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(scores.slice(0, 3))).toBeLessThan(0.4); // about 1/5 at the start
    expect(mean(scores.slice(-3))).toBeGreaterThan(0.7);
    expect(Math.max(...kls)).toBeLessThan(3);
  });
});

describe('ppoStep: errors', () => {
  it('names bad options', async () => {
    const policy = new Bigram(cpu, V, 3);
    const value = new TokenScore(cpu, [0, 0, 0, 0, 0]);
    const models = { policy, reference: policy, value, reward: value };
    const rollout = await ppoRollout(models, [[0], [1]], { maxNewTokens: 2, klCoef: 0 });
    const sgd = new SGD([policy.table], { lr: 0.1 });
    await expect(ppoStep(policy, value, sgd, rollout, { minibatches: 3 })).rejects.toThrow(
      /ppoStep: minibatches must be an integer >= 1 and <= 2, got number 3/,
    );
    await expect(ppoStep(policy, value, sgd, rollout, { lr: 1 } as never)).rejects.toThrow(/lr/);
    await expect(ppoStep(policy, value, sgd, rollout, { cliprange: 2 })).rejects.toThrow(
      /cliprange must be/,
    );
    rollout.dispose();
  });
});
