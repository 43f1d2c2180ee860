import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { evaluateCheckpoint } from './evaluate.js';
import { loadCheckpoint } from './load.js';
import { textFile, writeCheckpoint } from './test-utils/checkpoint.js';
import { splitText } from './train.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('evaluateCheckpoint', () => {
  it('scores every validation token once: the summed cross-entropy of overlapping windows', async () => {
    const { path, text } = textFile(12_000);
    const { dir } = await writeCheckpoint(text, device);
    const seqLen = 16;
    const got = await evaluateCheckpoint(dir, { data: path, device, seqLen, batch: 3 });
    // The reference: the same windows (seqLen tokens, overlapping by one), one at a time,
    // through crossEntropy on the logits.
    const { model, tokenizer } = loadCheckpoint(dir, device);
    const ids = tokenizer.encode(splitText(text).val, { disallowedSpecial: [] });
    let nats = 0;
    for (let s = 0; s + 1 < ids.length; s += seqLen - 1) {
      const w = ids.slice(s, s + seqLen);
      const x = T.tensor(Int32Array.from(w.slice(0, -1)), { shape: [1, w.length - 1], device });
      const y = T.tensor(Int32Array.from(w.slice(1)), { shape: [w.length - 1], device });
      nats += await T.noGrad(() =>
        T.crossEntropy(T.reshape(model.forward(x), [-1, model.vocabSize]), y, { reduction: 'sum' }),
      ).item();
    }
    expect(got.tokens).toBe(ids.length - 1);
    expect(got.meanNll).toBeCloseTo(nats / (ids.length - 1), 4);
    expect(got.perplexity).toBeCloseTo(Math.exp(got.meanNll), 6);
    // Batching changes nothing.
    const one = await evaluateCheckpoint(dir, { data: path, device, seqLen, batch: 1 });
    expect(one.meanNll).toBeCloseTo(got.meanNll, 5);
    model.dispose();
  });

  it('frees the model it loaded', async () => {
    const { path, text } = textFile(6_000);
    const { dir } = await writeCheckpoint(text, device);
    // Let the collector finish with earlier tests' garbage first.
    for (let i = 0; i < 2; i++) {
      (globalThis as { gc?: () => void }).gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = device.memory().liveBytes;
    await evaluateCheckpoint(dir, { data: path, device });
    expect(device.memory().liveBytes).toBe(before);
  });
});
