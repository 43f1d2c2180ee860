import { gae, maskedWhiten, ppoRewards, ppoRollout } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { Bigram, logSoftmax, TokenScore } from './test-utils/toy-models.js';

const { all, cpu } = await testDevices();
const V = 6;
const EOS = 5;
const prompts = [[1, 2], [3], [2, 4, 1]];

function models(dev: T.Device) {
  const policy = new Bigram(dev, V, 7);
  return {
    policy,
    reference: new Bigram(dev, V, 8),
    value: new TokenScore(dev, [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]),
    reward: new TokenScore(dev, [1, 2, 3, 4, 5, 6]),
  };
}
const options = {
  maxNewTokens: 4,
  stopTokenIds: [EOS],
  temperature: 0.7,
  seed: 3,
  klCoef: 0.05,
  missingEosPenalty: 1.5,
};

describe.each(all)('ppoRollout ($info.backend)', (dev) => {
  it('lays out prompt + completion rows and scores them as InstructGPT/TRL do', async () => {
    const m = models(dev);
    const r = await ppoRollout(m, prompts, options);
    const T_ = Math.max(...prompts.map((p, i) => p.length + r.completions[i]!.length));
    expect(r.ids.shape).toEqual([3, T_]);
    expect(r.promptLengths).toEqual([2, 1, 3]);
    const ids = await r.ids.data();
    const mask = await r.mask.data();
    const read = async (t: T.Tensor) => Array.from(await t.data());
    const [policyTable, refTable] = [await read(m.policy.table), await read(m.reference.table)];
    const lp = (table: number[], prev: number, next: number) =>
      logSoftmax(table.slice(prev * V, prev * V + V).map((x) => x / 0.7))[next]!;
    const [logprobs, refLogprobs, values, scores] = (await Promise.all(
      [r.logprobs, r.refLogprobs, r.values, r.scores].map(read),
    )) as [number[], number[], number[], number[]];
    const value = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6];
    prompts.forEach((p, b) => {
      const c = r.completions[b]!;
      expect(c.length).toBeGreaterThan(0);
      expect(c.length === 4 || c.at(-1) === EOS).toBe(true);
      const row = Array.from(ids.subarray(b * T_, b * T_ + p.length + c.length));
      expect(row).toEqual([...p, ...c]);
      for (let t = 0; t < T_; t++) {
        const i = b * T_ + t;
        const inCompletion = t >= p.length && t < p.length + c.length;
        expect(mask[i]).toBe(inCompletion ? 1 : 0);
        if (!inCompletion) {
          expect([logprobs[i]!, refLogprobs[i]!, values[i]!].map(Math.abs)).toEqual([0, 0, 0]);
          continue;
        }
        expect(logprobs[i]).toBeCloseTo(lp(policyTable, ids[i - 1]!, ids[i]!), 4);
        expect(refLogprobs[i]).toBeCloseTo(lp(refTable, ids[i - 1]!, ids[i]!), 4);
        expect(values[i]).toBeCloseTo(value[ids[i - 1]!]!, 6); // the state before the token
      }
      const penalty = c.at(-1) === EOS ? 0 : 1.5;
      expect(scores[b]).toBeCloseTo(c.at(-1)! + 1 - penalty, 5); // reward weight of the last token
    });
    r.dispose();
  });

  it('advantages are GAE over ppoRewards, whitened over the completion tokens', async () => {
    const m = models(dev);
    const r = await ppoRollout(m, prompts, { ...options, gamma: 0.9, lambda: 0.8 });
    const { rewards, kl } = ppoRewards(r.logprobs, r.refLogprobs, r.scores, r.mask, {
      klCoef: 0.05,
    });
    const want = await gae(rewards, r.values, r.mask, { gamma: 0.9, lambda: 0.8 });
    const whitened = maskedWhiten(want.advantages, r.mask);
    expect(maxRelError(await r.advantages.data(), await whitened.data())).toBeLessThan(1e-4);
    expect(maxRelError(await r.returns.data(), await want.returns.data())).toBeLessThan(1e-5);
    const perRow = Array.from(await T.sum(kl, -1).data());
    const meanKl = perRow.reduce((a, b) => a + b, 0) / 3;
    expect(r.stats.kl).toBeCloseTo(meanKl, 5);
    expect(r.stats.nonScoreReward).toBeCloseTo(-0.05 * meanKl, 6);
    const scores = Array.from(await r.scores.data());
    expect(r.stats.score).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / 3, 5);
    expect(r.stats.length).toBe(r.completions.reduce((n, c) => n + c.length, 0) / 3);
    r.dispose();
  });

  it('the KL is 0 when the policy is the reference, and the same seed samples the same', async () => {
    const m = models(dev);
    const same = { ...m, reference: m.policy };
    const [a, b] = [
      await ppoRollout(same, prompts, options),
      await ppoRollout(same, prompts, options),
    ];
    expect(a.stats.kl).toBe(0);
    expect(b.completions).toEqual(a.completions);
    a.dispose();
    b.dispose();
  });
});

describe('ppoRollout: errors', () => {
  const m = models(cpu);
  it('names bad options and inputs', async () => {
    await expect(ppoRollout(m, [], options)).rejects.toThrow(/prompts must be a non-empty/);
    await expect(ppoRollout(m, prompts, { ...options, klCoef: -1 })).rejects.toThrow(
      /ppoRollout: klCoef must be a finite number >= 0, got number -1/,
    );
    await expect(ppoRollout(m, prompts, { ...options, stopTokenIds: undefined })).rejects.toThrow(
      /missingEosPenalty needs stopTokenIds/,
    );
    await expect(ppoRollout(m, prompts, { ...options, topK: 3 } as never)).rejects.toThrow(/topK/);
  });
});
