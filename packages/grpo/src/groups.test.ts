import { groupStds } from '@tessera/grpo';
import { describe, expect, it } from 'vitest';
import { fx } from './test-utils/fixture.js';

describe('groupStds', () => {
  it('is the unbiased std of each group, 0 for a group of equal rewards', () => {
    const stds = groupStds(fx.inputs.rewards, fx.inputs.G);
    // [1, 0, 0, 1]: mean 0.5, squares sum 1, over n − 1 = 3.
    expect(stds[0]).toBeCloseTo(Math.sqrt(1 / 3), 7);
    expect(stds[1]).toBe(0);
    // TRL's advantages are (r − mean)/(std + 1e-4): the third group's std follows from them.
    const [first] = fx.advantages.group.slice(8);
    const [r0] = fx.inputs.rewards.slice(8);
    const mean = (0.2 + 1.3 - 0.4 + 0.9) / 4;
    expect((r0 - mean) / (stds[2]! + 1e-4)).toBeCloseTo(first, 5);
  });

  it('rejects a batch of partial groups and non-finite rewards', () => {
    expect(() => groupStds([1, 2, 3], 2)).toThrow(
      /groupStds: 3 rewards are not whole groups of groupSize 2/,
    );
    expect(() => groupStds([1, Number.NaN], 2)).toThrow(/rewards\[1\] must be a finite number/);
  });
});
