import { selectExperts } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import { smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all } = await testDevices();

describe.each(all)('selectExperts ($info.backend)', (dev) => {
  it("picks what the core's topk picks: odd sizes, ties, NaN", async () => {
    const values = smoothValues(301 * 7, 1);
    // Ties within a row (columns 1 and 4, and 2 and 5) and a NaN.
    values[1] = values[4] = 5;
    values[7 + 2] = values[7 + 5] = -5;
    values[14 + 6] = Number.NaN;
    const scores = T.tensor(values, { shape: [301, 7], device: dev });
    for (const k of [1, 3, 7]) {
      const want = await T.topk(scores, k).indices.toArray();
      expect(await selectExperts(scores, k).toArray()).toEqual(want);
    }
    expect(((await selectExperts(scores, 2).toArray()) as number[][])[0]).toEqual([1, 4]);
  });

  it('rejects bad arguments', () => {
    const scores = T.zeros([2, 3], { device: dev });
    expect(() => selectExperts(scores, 4)).toThrow(
      'selectExperts: k must be an integer in [1, 3], got 4',
    );
    expect(() => selectExperts(T.zeros([3], { device: dev }), 1)).toThrow(
      'selectExperts: scores must be [tokens, experts], got [3]',
    );
  });
});
