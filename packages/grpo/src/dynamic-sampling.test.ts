import { dynamicSampling } from '@tessera/grpo';
import { describe, expect, it } from 'vitest';

describe('dynamicSampling', () => {
  it('drops the groups whose rewards are all equal and says how many to refill', () => {
    // Four prompts × 3 completions: mixed, all right, all wrong, mixed.
    const rewards = [1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1];
    expect(dynamicSampling(rewards, 3, 4)).toEqual({ keep: [0, 3], drop: [1, 2], refill: 2 });
    expect(dynamicSampling(rewards, 3, 2).refill).toBe(0);
    expect(dynamicSampling(rewards, 3, 1).refill).toBe(0);
  });

  it('treats real-valued rewards that differ as signal', () => {
    expect(dynamicSampling([0.5, 0.5000001, 0.25, 0.25], 2, 2)).toEqual({
      keep: [0],
      drop: [1],
      refill: 1,
    });
  });

  it('rejects a bad target', () => {
    expect(() => dynamicSampling([1, 0], 2, -1)).toThrow(
      /dynamicSampling: targetGroups must be an integer >= 0/,
    );
  });
});
