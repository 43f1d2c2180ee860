import { beamSearch, generate } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { BigramLM, TrigramLM } from './test-utils/toy-models.js';

const { all, cpu } = await testDevices();
const NEG = Number.NEGATIVE_INFINITY;

describe('beam search', () => {
  it('beam search finds a better sequence than greedy, with length penalty', async () => {
    // Greedy from 0 takes 1 (p≈.6) then a flat row; 2 (p≈.4) leads to a near-certain token.
    const lm = new BigramLM(cpu, [
      [NEG, Math.log(0.6), Math.log(0.4), NEG],
      [Math.log(0.34), Math.log(0.33), Math.log(0.33), NEG],
      [NEG, NEG, NEG, 0],
      [NEG, NEG, NEG, 0],
    ]);
    const [best] = await beamSearch(lm, [0], { numBeams: 2, maxNewTokens: 2 });
    expect(best!.ids).toEqual([2, 3]);
    expect(best!.logprob).toBeCloseTo(Math.log(0.4), 5);
    const greedy: number[] = [];
    for await (const id of generate(lm, [0], { temperature: 0, maxNewTokens: 2 })) greedy.push(id);
    expect(greedy[0]).toBe(1);
  });

  it.each(all)(
    'with beams covering every sequence, finds the exhaustive best; cached equals uncached ($info.backend)',
    async (dev) => {
      // V = 4 and 3 steps: 16 beams keep all 16 two-token prefixes, so the best of the 64
      // three-token sequences cannot be missed. Beams continue from one another's cache rows.
      const lm = new TrigramLM(dev, 4);
      const prompt = [2, 0];
      const logp = async (seq: number[]) => {
        const ids = T.tensor(Int32Array.from(seq), { shape: [1, seq.length], device: dev });
        const logits = (await lm.forward(ids).toArray()) as number[][][];
        let total = 0;
        for (let t = prompt.length; t < seq.length; t++) {
          const z = logits[0]![t - 1]!;
          const max = Math.max(...z);
          total += z[seq[t]!]! - max - Math.log(z.reduce((s, x) => s + Math.exp(x - max), 0));
        }
        return total;
      };
      let best = { ids: [] as number[], logprob: NEG };
      for (let i = 0; i < 64; i++) {
        const ids = [i >> 4, (i >> 2) & 3, i & 3];
        const lp = await logp([...prompt, ...ids]);
        if (lp > best.logprob) best = { ids, logprob: lp };
      }
      const o = { numBeams: 16, maxNewTokens: 3, lengthPenalty: 0 };
      const [cached] = await beamSearch(lm, prompt, o);
      expect(cached!.ids).toEqual(best.ids);
      expect(cached!.logprob).toBeCloseTo(best.logprob, 4);
      const uncached = await beamSearch(lm, prompt, { ...o, useCache: false });
      const again = await beamSearch(lm, prompt, o);
      expect(again.map((h) => h.ids)).toEqual(uncached.map((h) => h.ids));
      expect(lm.caches.every((c) => c.disposed)).toBe(true);
    },
  );

  it('names bad options', async () => {
    const lm = new TrigramLM(cpu, 4);
    await expect(
      beamSearch(lm, [1], { numBeams: 2, maxNewTokens: 2, beams: 3 } as never),
    ).rejects.toThrow(/beamSearch: unknown option "beams"/);
    await expect(beamSearch(lm, [], { numBeams: 2, maxNewTokens: 2 })).rejects.toThrow(
      /beamSearch: the prompt is empty/,
    );
  });
});
