import { groupAdvantages } from '@tessera/grpo';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { G, B } = fx.inputs;

describe.each(all)('groupAdvantages ($info.backend)', (dev) => {
  const rewards = t(dev, fx.inputs.rewards, [B]);
  for (const scaleRewards of ['group', 'batch', 'none'] as const) {
    it(`scaleRewards '${scaleRewards}' matches TRL's advantages (PyTorch)`, async () => {
      const got = groupAdvantages(rewards, { groupSize: G, scaleRewards });
      expect(maxRelError(await got.data(), fx.advantages[scaleRewards])).toBeLessThan(1e-5);
    });
  }

  it('uses the unbiased group std and eps 1e-4 by hand: [1, 0] → ±0.5/(√0.5 + 1e-4)', async () => {
    const got = await groupAdvantages(T.tensor([1, 0], { device: dev }), { groupSize: 2 }).data();
    const want = 0.5 / (Math.SQRT1_2 + 1e-4);
    expect(maxRelError(got, [want, -want])).toBeLessThan(1e-6);
  });
});

describe('groupAdvantages: errors', () => {
  const rewards = T.zeros([6], { device: cpu });
  it('names a batch that is not whole groups, a group of one, and unknown options', () => {
    expect(() => groupAdvantages(rewards, { groupSize: 4 })).toThrow(
      /groupAdvantages: 6 rewards are not whole groups of groupSize 4/,
    );
    expect(() => groupAdvantages(rewards, { groupSize: 1 })).toThrow(
      /groupSize must be an integer >= 2, got number 1/,
    );
    // @ts-expect-error: TRL's name, not ours
    expect(() => groupAdvantages(rewards, { groupSize: 2, scale_rewards: 'none' })).toThrow(
      /unknown option "scale_rewards"/,
    );
    // @ts-expect-error: not a scaling
    expect(() => groupAdvantages(rewards, { groupSize: 2, scaleRewards: 'std' })).toThrow(
      /scaleRewards must be one of 'group', 'batch', 'none'/,
    );
  });
});
