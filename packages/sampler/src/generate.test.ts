import { type GenerateStreamOptions, generate, generateText } from '@tessera/sampler';
import type { Device } from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { BigramLM, TrigramLM } from './test-utils/toy-models.js';

const { all, cpu } = await testDevices();

/** A codec of one character per token. */
const codecOf = (letters: string) => ({
  encode: (s: string) => Array.from(s, (c) => letters.indexOf(c)),
  decode: (ids: Iterable<number>) => Array.from(ids, (i) => letters[i]).join(''),
});

describe('generate', () => {
  const table = (dev: Device) =>
    new BigramLM(dev, [
      [0, 3, 1, 0],
      [0, 0, 3, 1],
      [0, 0, 0, 3],
      [3, 0, 0, 0],
    ]);

  it.each(all)(
    'greedy follows the argmax chain; stop ids end it; seeds reproduce ($info.backend)',
    async (dev) => {
      const lm = table(dev);
      const ids: number[] = [];
      for await (const id of generate(lm, [0], { temperature: 0, maxNewTokens: 6 })) ids.push(id);
      expect(ids).toEqual([1, 2, 3, 0, 1, 2]);
      const stopped: number[] = [];
      for await (const id of generate(lm, [0], {
        temperature: 0,
        maxNewTokens: 6,
        stopTokenIds: [3],
      }))
        stopped.push(id);
      expect(stopped).toEqual([1, 2, 3]);
      const sample = async (seed: number) => {
        const out: number[] = [];
        for await (const id of generate(lm, [0], { seed, maxNewTokens: 12 })) out.push(id);
        return out;
      };
      expect(await sample(7)).toEqual(await sample(7));
    },
  );

  it('stop sequences match across token boundaries and are cut from the text', async () => {
    const lm = table(cpu);
    const codec = codecOf('abcd');
    // Greedy from "a": b c d a b c ...; "da" spans two tokens.
    expect(
      await generateText(lm, codec, 'a', {
        temperature: 0,
        maxNewTokens: 20,
        stopSequences: ['da'],
      }),
    ).toBe('bc');
  });

  it('refuses an empty prompt and out-of-vocabulary ids', async () => {
    const lm = table(cpu);
    await expect(generate(lm, []).next()).rejects.toThrow(/the prompt is empty/);
    await expect(generate(lm, [9]).next()).rejects.toThrow(
      /prompt id 9 is outside the vocabulary \(0\.\.3\)/,
    );
    await expect(generate(lm, [0], { maxNewToken: 3 } as never).next()).rejects.toThrow(
      /generate: unknown option "maxNewToken"/,
    );
    await expect(generateText(lm, codecOf('abcd'), 'a', { seeds: 1 } as never)).rejects.toThrow(
      /generate: unknown option "seeds"/,
    );
  });
});

describe.each(all)('generate with a KV cache ($info.backend)', (dev) => {
  const run = async (lm: TrigramLM, o: GenerateStreamOptions) => {
    const out: number[] = [];
    for await (const id of generate(lm, [3, 1, 4], o)) out.push(id);
    return out;
  };

  it('gives the same tokens with and without the cache, greedy and sampled', async () => {
    const lm = new TrigramLM(dev, 11);
    for (const o of [{ temperature: 0 }, { temperature: 0.8, topK: 5, seed: 9 }]) {
      const cached = await run(lm, { ...o, maxNewTokens: 20 });
      expect(cached).toHaveLength(20);
      expect(cached).toEqual(await run(lm, { ...o, maxNewTokens: 20, useCache: false }));
    }
    // With the cache, the prompt runs once and every later step feeds one token.
    lm.calls.length = 0;
    await run(lm, { temperature: 0, maxNewTokens: 5 });
    expect(lm.calls).toEqual([
      [1, 3],
      [1, 1],
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
  });

  it('frees its cache when generation ends and when the consumer breaks out', async () => {
    const lm = new TrigramLM(dev, 11);
    await run(lm, { temperature: 0, maxNewTokens: 4 });
    for await (const _ of generate(lm, [1, 2], { temperature: 0, maxNewTokens: 50 })) break;
    expect(lm.caches).toHaveLength(2);
    expect(lm.caches.every((c) => c.disposed)).toBe(true);
  });
});
