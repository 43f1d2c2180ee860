import { grpoLoss, grpoStatistics } from '@tessera/grpo';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all } = await testDevices();
const { G, B, T: L, rewards, lengths } = fx.inputs;

describe.each(all)('grpoStatistics ($info.backend)', (dev) => {
  it("matches TRL's reward, reward_std, frac_reward_zero_std, kl and clip_ratio (PyTorch)", async () => {
    const loss = grpoLoss(
      {
        logprobs: t(dev, fx.inputs.logp, [B, L]),
        oldLogprobs: t(dev, fx.inputs.old, [B, L]),
        refLogprobs: t(dev, fx.inputs.ref, [B, L]),
        advantages: t(dev, fx.advantages.group, [B]),
        mask: t(dev, fx.inputs.mask, [B, L]),
      },
      { beta: fx.loss.beta, epsilonLow: fx.loss.epsilonLow, epsilonHigh: fx.loss.epsilonHigh },
    );
    const stats = await grpoStatistics({ rewards, groupSize: G, lengths, loss });
    expect(stats.meanReward).toBeCloseTo(fx.statistics.reward, 6);
    expect(stats.rewardStd).toBeCloseTo(fx.statistics.rewardStd, 6);
    expect(stats.zeroStdGroups).toBeCloseTo(fx.statistics.fracRewardZeroStd, 6);
    expect(stats.kl).toBeCloseTo(fx.loss.kl, 6);
    expect(stats.clipLow).toBeCloseTo(fx.loss.clipLow, 6);
    expect(stats.clipHigh).toBeCloseTo(fx.loss.clipHigh, 6);
    expect(stats.clipRegion).toBeCloseTo(fx.loss.clipRegion, 6);
  });
});

describe('grpoStatistics', () => {
  it('splits lengths and accuracy by correctness, by hand', async () => {
    const stats = await grpoStatistics({
      rewards: [1, 0, 0, 0],
      groupSize: 2,
      lengths: [10, 20, 30, 50],
      correct: [true, false, false, false],
    });
    expect(stats).toEqual({
      meanReward: 0.25,
      rewardStd: Math.sqrt((0.75 ** 2 + 3 * 0.25 ** 2) / 3),
      zeroStdGroups: 0.5,
      meanLength: 27.5,
      accuracy: 0.25,
      meanLengthCorrect: 10,
      meanLengthIncorrect: 100 / 3,
    });
  });

  it('leaves out the correct-length mean when nothing is correct, and names mismatched arrays', async () => {
    const stats = await grpoStatistics({
      rewards: [0, 0],
      groupSize: 2,
      lengths: [4, 6],
      correct: [0, 0],
    });
    expect(stats.meanLengthCorrect).toBeUndefined();
    expect(stats.meanLengthIncorrect).toBe(5);
    await expect(grpoStatistics({ rewards: [0, 0], groupSize: 2, lengths: [4] })).rejects.toThrow(
      /grpoStatistics: 1 lengths for 2 rewards/,
    );
  });
});
