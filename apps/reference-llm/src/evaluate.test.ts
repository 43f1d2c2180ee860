import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { splitText } from './data.js';
import { evaluateCheckpoint, evaluateModel } from './evaluate.js';
import { loadCheckpoint } from './load.js';
import { pretrain } from './pretrain.js';
import { overflowingCopy } from './test-utils/checkpoints.js';
import { data, micro, shakespeare, tempDir, textFile } from './test-utils/fixtures.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const quiet = { write: () => {} };

describe('evaluateCheckpoint', () => {
  it('scores every validation token once: the summed cross-entropy of overlapping windows, with progress', async () => {
    const dir = tempDir();
    await pretrain({ preset: micro, out: dir, steps: 2, data, device, sink: quiet });
    const seqLen = 16;
    const seen: [number, number][] = [];
    const got = await evaluateCheckpoint(dir, {
      data,
      device,
      seqLen,
      batch: 3,
      onProgress: (d, t) => seen.push([d, t]),
    });
    // The reference: the same windows (seqLen tokens, overlapping by one), one at a time,
    // through crossEntropy on the logits.
    const { model, tokenizer } = loadCheckpoint(dir, device);
    const ids = tokenizer.encode(splitText(shakespeare(60_000)).val, { disallowedSpecial: [] });
    let nats = 0;
    let windows = 0;
    for (let s = 0; s + 1 < ids.length; s += seqLen - 1) {
      const w = ids.slice(s, s + seqLen);
      const x = T.tensor(Int32Array.from(w.slice(0, -1)), { shape: [1, w.length - 1], device });
      const y = T.tensor(Int32Array.from(w.slice(1)), { shape: [w.length - 1], device });
      nats += await T.noGrad(() =>
        T.crossEntropy(T.reshape(model.forward(x), [-1, model.vocabSize]), y, { reduction: 'sum' }),
      ).item();
      windows++;
    }
    expect(got.tokens).toBe(ids.length - 1);
    expect(got.meanNll).toBeCloseTo(nats / (ids.length - 1), 4);
    expect(got.perplexity).toBeCloseTo(Math.exp(got.meanNll), 6);
    expect(seen.at(-1)).toEqual([windows, windows]);
    // Batching changes nothing.
    const one = await evaluateCheckpoint(dir, { data, device, seqLen, batch: 1 });
    expect(one.meanNll).toBeCloseTo(got.meanNll, 5);
    // evaluateModel on a loaded model gives the same, and leaves the model to its caller.
    const same = await evaluateModel(model, tokenizer, dir, { data, seqLen, batch: 3 });
    expect(same.meanNll).toBeCloseTo(got.meanNll, 5);
    expect(model.parameters().every((p) => !p.isDisposed)).toBe(true);
    model.dispose();
  });

  it('frees the model it loaded', async () => {
    const dir = tempDir();
    await pretrain({ preset: micro, out: dir, steps: 1, data, device, sink: quiet });
    // Let the collector finish with earlier tests' garbage first.
    for (let i = 0; i < 2; i++) {
      (globalThis as { gc?: () => void }).gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = device.memory().liveBytes;
    await evaluateCheckpoint(dir, { data, device });
    expect(device.memory().liveBytes).toBe(before);
  });

  it('refuses logits that are not finite and a split too short, naming the checkpoint or the file', async () => {
    const dir = tempDir();
    await pretrain({ preset: micro, out: dir, steps: 1, data, device, sink: quiet });
    const overflowing = await overflowingCopy(dir);
    await expect(evaluateCheckpoint(overflowing, { data, device })).rejects.toThrow(
      new RegExp(
        `^${overflowing}: the model produced non-finite logits \\(the checkpoint's weights overflow\\?\\): the log-likelihood of the validation window at token 0 is NaN`,
      ),
    );
    const five = textFile('five.');
    await expect(evaluateCheckpoint(dir, { data: five, device })).rejects.toThrow(
      `eval --data ${five}: the validation split has 1 tokens`,
    );
  });
});
