import { fillGroups } from '@tessera/grpo';
import { describe, expect, it } from 'vitest';

// Generation batches of groups of 2: a group is named by a letter, its rewards listed after it.
const batches: [string[], number[]][] = [
  [
    ['a', 'b', 'c'],
    [1, 1, 0, 1, 0, 0],
  ], // only b has signal
  [
    ['d', 'e', 'f'],
    [0, 0, 0, 0, 0, 0],
  ], // none
  [
    ['g', 'h', 'i'],
    [1, 0, 0, 1, 0.5, 0],
  ], // all three
];
const drawFrom = (calls: [number, number][]) => async (k: number, missing: number) => {
  calls.push([k, missing]);
  const [groups, rewards] = batches[k % batches.length]!;
  return { groups, rewards };
};

describe('fillGroups', () => {
  it('draws until the batch holds the target of groups whose rewards differ, truncating the last draw', async () => {
    const calls: [number, number][] = [];
    const r = await fillGroups(drawFrom(calls), { groupSize: 2, targetGroups: 3, maxDraws: 10 });
    expect(calls).toEqual([
      [0, 3],
      [1, 2],
      [2, 2],
    ]);
    expect(r).toEqual({
      groups: ['b', 'g', 'h'],
      rewards: [0, 1, 1, 0, 0, 1],
      draws: 3,
      drawnGroups: 9,
      droppedGroups: 5,
    });
  });

  it('stops at maxDraws with fewer groups than the target', async () => {
    const calls: [number, number][] = [];
    const r = await fillGroups(drawFrom(calls), { groupSize: 2, targetGroups: 3, maxDraws: 2 });
    expect(calls.length).toBe(2);
    expect(r.groups).toEqual(['b']);
    expect(r.rewards).toEqual([0, 1]);
    expect([r.draws, r.drawnGroups, r.droppedGroups]).toEqual([2, 6, 5]);
  });

  it('draws once when the first batch already fills it', async () => {
    const calls: [number, number][] = [];
    const r = await fillGroups(
      async (k, missing) => {
        calls.push([k, missing]);
        return { groups: ['x', 'y'], rewards: [1, 0, 0, 1] };
      },
      { groupSize: 2, targetGroups: 2, maxDraws: 4 },
    );
    expect(calls).toEqual([[0, 2]]);
    expect(r.groups).toEqual(['x', 'y']);
  });

  it('rejects bad options and a draw that is not whole groups', async () => {
    const draw = drawFrom([]);
    await expect(fillGroups(draw, { groupSize: 2, targetGroups: 0, maxDraws: 1 })).rejects.toThrow(
      /fillGroups: targetGroups must be an integer >= 1/,
    );
    await expect(fillGroups(draw, { groupSize: 2, targetGroups: 1, maxDraws: 0 })).rejects.toThrow(
      /fillGroups: maxDraws must be an integer >= 1/,
    );
    await expect(
      fillGroups(draw, { groupSize: 2, targetGroups: 1, maxDraws: 1, tries: 3 } as never),
    ).rejects.toThrow(/fillGroups.*tries/);
    await expect(
      fillGroups(async () => ({ groups: ['a'], rewards: [1, 0, 1] }), {
        groupSize: 2,
        targetGroups: 1,
        maxDraws: 1,
      }),
    ).rejects.toThrow(
      /fillGroups: draw 0 returned 1 groups and 3 rewards; expected 2 rewards per group/,
    );
  });
});
