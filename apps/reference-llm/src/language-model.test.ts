import { arithmeticTask, knowledgeQuizTask, runBenchmark } from '@tessera/eval';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { asLanguageModel } from './language-model.js';
import { loadCheckpoint } from './load.js';
import { pretrain } from './pretrain.js';
import { overflowingCopy } from './test-utils/checkpoints.js';
import { data, micro, shakespeare, tempDir } from './test-utils/fixtures.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('asLanguageModel', () => {
  it('a continuation log-likelihood is minus its tokens cross-entropy, the context cut to the window; the runner completes', async () => {
    const out = tempDir();
    await pretrain({ preset: micro, out, steps: 2, data, device, sink: { write: () => {} } });
    const { model, tokenizer } = loadCheckpoint(out, device);
    const lm = asLanguageModel(model, tokenizer, out);
    const window = model.config.maxSeqLen;
    const encode = (s: string) => tokenizer.encode(s, { disallowedSpecial: [] });
    for (const context of ['ROMEO:\nWhat', shakespeare(300)]) {
      const cont = encode(' light');
      const ids = [...encode(context), ...cont].slice(-window); // the model's positions
      const x = T.tensor(Int32Array.from(ids.slice(0, -1)), { shape: [1, ids.length - 1], device });
      const y = T.tensor(Int32Array.from(ids.slice(1)), { shape: [ids.length - 1], device });
      const ce = T.noGrad(() =>
        T.crossEntropy(T.reshape(model.forward(x), [-1, model.vocabSize]), y, {
          reduction: 'none',
        }),
      );
      const perToken = Array.from(await ce.data());
      const expected = -perToken.slice(-cont.length).reduce((a, b) => a + b, 0);
      expect(await lm.logLikelihood(context, ' light')).toBeCloseTo(expected, 3);
    }
    await expect(async () => lm.logLikelihood('a', '')).rejects.toThrow(/has no tokens/);
    // An empty context: the end-of-text token stands in, and every continuation token is scored.
    const eot = tokenizer.specialTokens['<|endoftext|>']!;
    const cont = encode('ROMEO');
    const xs = T.tensor(Int32Array.from([eot, ...cont.slice(0, -1)]), {
      shape: [1, cont.length],
      device,
    });
    const ys = T.tensor(Int32Array.from(cont), { shape: [cont.length], device });
    const nll = await T.noGrad(() =>
      T.crossEntropy(T.reshape(model.forward(xs), [-1, model.vocabSize]), ys, { reduction: 'sum' }),
    ).item();
    expect(await lm.logLikelihood('', 'ROMEO')).toBeCloseTo(-nll, 3);
    await expect(async () => lm.logLikelihood('a', shakespeare(1_000))).rejects.toThrow(
      new RegExp(`the model's window of ${window} scores at most ${window - 1}`),
    );
    const report = await runBenchmark(lm, [arithmeticTask(2, 0), knowledgeQuizTask()], {
      limit: 2,
      numFewshot: 1,
    });
    expect(report.results.map((r) => r.n)).toEqual([2, 2]);
    for (const r of report.results)
      for (const v of Object.values(r.metrics)) expect(v).toBeGreaterThanOrEqual(0);

    // Logits that are not finite are refused, never scored (a benchmark would print 0).
    const overflowing = await overflowingCopy(out);
    const bad = loadCheckpoint(overflowing, device);
    const badLm = asLanguageModel(bad.model, bad.tokenizer, overflowing);
    const refused = new RegExp(
      `^${overflowing}: the model produced non-finite logits \\(the checkpoint's weights overflow\\?\\): `,
    );
    await expect(badLm.logLikelihood('ROMEO:', ' light')).rejects.toThrow(refused);
    await expect(badLm.logLikelihood('ROMEO:', ' light')).rejects.toThrow(
      /log-likelihood of " light" is NaN/,
    );
    await expect(badLm.generate('1 + 1 =', { maxTokens: 3, stop: [] })).rejects.toThrow(refused);
    await expect(
      runBenchmark(badLm, [knowledgeQuizTask()], { limit: 1, numFewshot: 0 }),
    ).rejects.toThrow(refused);
  });
});
