import { sampleGroups } from '@tessera/grpo';
import { generate } from '@tessera/sampler';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { BigramPolicy } from './test-utils/bandit.js';

const { all, cpu } = await testDevices();
const V = 8;
const prompts = [[1], [2, 3], [4, 5, 6]];

/** The tokens one prompt gets sampled alone. */
async function alone(policy: BigramPolicy, prompt: number[], o: object): Promise<number[]> {
  const out: number[] = [];
  for await (const id of generate(policy, prompt, o)) out.push(id);
  return out;
}

describe.each(all)('sampleGroups ($info.backend)', (dev) => {
  it('G completions per prompt, grouped; completion i samples with seed + i as it would alone', async () => {
    const policy = new BigramPolicy(dev, V, 1);
    const o = { groupSize: 4, maxNewTokens: 5, temperature: 1.3, seed: 50 };
    const got = await sampleGroups(policy, prompts, o);
    expect(got).toHaveLength(12);
    const want = await Promise.all(
      got.map((_, i) =>
        alone(policy, prompts[Math.floor(i / 4)]!, {
          maxNewTokens: 5,
          temperature: 1.3,
          seed: 50 + i,
        }),
      ),
    );
    expect(got).toEqual(want);
    expect(new Set(got.map((c) => c.join())).size).toBeGreaterThan(1); // sampled, not greedy
  });

  it('stops after a stop id (kept) or a stop sequence, and at maxNewTokens', async () => {
    const policy = new BigramPolicy(dev, V, 2);
    const stop = await sampleGroups(policy, prompts, {
      groupSize: 3,
      maxNewTokens: 12,
      temperature: 2,
      stopTokenIds: [7],
    });
    for (const c of stop) {
      expect(c.length).toBeLessThanOrEqual(12);
      expect(c.slice(0, -1)).not.toContain(7);
      if (c.length < 12) expect(c.at(-1)).toBe(7);
    }
    const codec = {
      encode: (text: string) => [...text].map((ch) => ch.charCodeAt(0) - 97),
      decode: (ids: Iterable<number>) => String.fromCharCode(...[...ids].map((id) => id + 97)),
    };
    const sequence = await sampleGroups(policy, prompts, {
      groupSize: 3,
      maxNewTokens: 12,
      temperature: 2,
      stopSequences: ['fg'],
      codec,
    });
    for (const c of sequence) {
      const text = codec.decode(c);
      expect(text.indexOf('fg')).toBe(text.includes('fg') ? text.length - 2 : -1);
      if (!text.includes('fg')) expect(c).toHaveLength(12);
    }
  });

  it('top-p keeps the nucleus: a tiny p samples the most likely token every time', async () => {
    const policy = new BigramPolicy(dev, V, 3);
    const nucleus = await sampleGroups(policy, prompts, {
      groupSize: 4,
      maxNewTokens: 4,
      topP: 1e-6,
      seed: 9,
    });
    const greedy = await Promise.all(
      prompts.map((p) => alone(policy, p, { maxNewTokens: 4, temperature: 0 })),
    );
    expect(nucleus).toEqual(greedy.flatMap((c) => [c, c, c, c]));
  });
});

describe('sampleGroups: errors', () => {
  const policy = new BigramPolicy(cpu, V, 4);
  it('names bad options and empty prompts', async () => {
    await expect(sampleGroups(policy, prompts, { groupSize: 1, maxNewTokens: 2 })).rejects.toThrow(
      /sampleGroups: groupSize must be an integer >= 2, got number 1/,
    );
    await expect(sampleGroups(policy, prompts, { groupSize: 2, maxNewTokens: 0 })).rejects.toThrow(
      /maxNewTokens/,
    );
    await expect(
      sampleGroups(policy, prompts, { groupSize: 2, maxNewTokens: 2, topP: 1.5 }),
    ).rejects.toThrow(/topP/);
    await expect(
      sampleGroups(policy, prompts, { groupSize: 2, maxNewTokens: 2, temperature: 0 }),
    ).rejects.toThrow(/temperature/);
    await expect(
      sampleGroups(policy, prompts, { groupSize: 2, maxNewTokens: 2, topK: 3 } as never),
    ).rejects.toThrow(/topK/);
    await expect(sampleGroups(policy, [], { groupSize: 2, maxNewTokens: 2 })).rejects.toThrow(
      /prompts must be a non-empty array/,
    );
  });
});
