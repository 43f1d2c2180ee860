import { cutAtStops, diffusionNll, generate } from '@tessera/dllm';
import { arithmeticTask, knowledgeQuizTask, runBenchmark } from '@tessera/eval';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { data, micro, shakespeare, tempDir } from '../test-utils/fixtures.js';
import { asDiffusionLanguageModel } from './language-model.js';
import { loadDiffusionCheckpoint } from './load.js';
import { trainDiffusion } from './train.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('asDiffusionLanguageModel', () => {
  it('scores by the ELBO bound (context cut to the window), generates by denoising, and runs the tasks', async () => {
    const out = tempDir();
    await trainDiffusion({ preset: micro, out, steps: 2, data, device, sink: { write: () => {} } });
    const { model, tokenizer } = loadDiffusionCheckpoint(out, device);
    const lm = asDiffusionLanguageModel(model, tokenizer, out, { samples: 3, tokensPerStep: 4 });
    const window = model.maxSequenceLength;
    const encode = (s: string) => Array.from(tokenizer.encode(s, { disallowedSpecial: [] }));

    const cont = encode(' light');
    for (const context of ['ROMEO:\nWhat', shakespeare(300)]) {
      const ids = [...encode(context), ...cont].slice(-window);
      const [nll] = await diffusionNll(model, [ids], {
        from: ids.length - cont.length,
        samples: 3,
      });
      expect(await lm.logLikelihood(context, ' light')).toBeCloseTo(-nll!, 5);
    }
    // An empty context: the end-of-text token stands in.
    const eot = tokenizer.specialTokens['<|endoftext|>']!;
    const [alone] = await diffusionNll(model, [[eot, ...cont]], { from: 1, samples: 3 });
    expect(await lm.logLikelihood('', ' light')).toBeCloseTo(-alone!, 5);
    // The same masks every call: a question's choices are compared with the same noise.
    expect(await lm.logLikelihood('a', ' b')).toBe(await lm.logLikelihood('a', ' b'));

    // 8 tokens in ⌈8 / 4⌉ = 2 greedy steps after the prompt cut to window − 8 tokens.
    const prompt = shakespeare(400);
    const { tokens } = await generate(model, encode(prompt).slice(-(window - 8)), {
      length: 8,
      steps: 2,
      temperature: 0,
    });
    const text = tokenizer.decode(tokens);
    expect(await lm.generate(prompt, { maxTokens: 8, stop: [] })).toBe(text);
    const stop = text.slice(2, 3);
    expect(await lm.generate(prompt, { maxTokens: 8, stop: [stop] })).toBe(
      cutAtStops(text, [stop]),
    );

    await expect(async () => lm.logLikelihood('a', '')).rejects.toThrow(/has no tokens/);
    await expect(async () => lm.logLikelihood('a', shakespeare(1_000))).rejects.toThrow(
      new RegExp(`the model's window of ${window} scores at most ${window - 1}`),
    );
    await expect(async () => lm.generate('a', { maxTokens: window, stop: [] })).rejects.toThrow(
      `generate: maxTokens ${window} leaves no room for the prompt in the model's window of ${window}`,
    );
    expect(() => asDiffusionLanguageModel(model, tokenizer, out, { samples: 0 })).toThrow(
      'asDiffusionLanguageModel: samples must be an integer >= 1, got 0',
    );
    expect(() =>
      asDiffusionLanguageModel(model, tokenizer, out, { steps: 4 } as unknown as object),
    ).toThrow(/steps/);

    const report = await runBenchmark(lm, [arithmeticTask(2, 0), knowledgeQuizTask()], {
      limit: 2,
      numFewshot: 1,
    });
    expect(report.results.map((r) => r.n)).toEqual([2, 2]);
    model.dispose();
  });
});
