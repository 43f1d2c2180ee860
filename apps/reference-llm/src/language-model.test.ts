import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { asLanguageModel } from './language-model.js';
import { loadCheckpoint } from './load.js';
import { textFile, writeCheckpoint } from './test-utils/checkpoint.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('asLanguageModel', () => {
  it('a continuation log-likelihood is minus its tokens cross-entropy, the context cut to the window', async () => {
    const { text } = textFile(6_000);
    const { dir } = await writeCheckpoint(text, device, 12);
    const { model, tokenizer } = loadCheckpoint(dir, device);
    const lm = asLanguageModel(model, tokenizer, dir);
    const encode = (s: string) => tokenizer.encode(s, { disallowedSpecial: [] });
    for (const context of [
      'ROMEO:\nWhat',
      'First Citizen:\nBefore we proceed any further, hear me speak.',
    ]) {
      const cont = encode(' light');
      const window = [...encode(context), ...cont].slice(-12); // the model's 12 positions
      const x = T.tensor(Int32Array.from(window.slice(0, -1)), {
        shape: [1, window.length - 1],
        device,
      });
      const y = T.tensor(Int32Array.from(window.slice(1)), { shape: [window.length - 1], device });
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
    await expect(async () => lm.logLikelihood('a', text.slice(0, 400))).rejects.toThrow(
      /the model's window of 12 scores at most 11/,
    );
  });
});
