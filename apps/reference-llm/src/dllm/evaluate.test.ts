import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { readText, splitText } from '../data.js';
import { evaluateCheckpoint } from '../evaluate.js';
import { pretrain } from '../pretrain.js';
import { data, micro, shakespeare, tempDir, textFile } from '../test-utils/fixtures.js';
import { evaluateDiffusion } from './evaluate.js';
import { loadDiffusionCheckpoint } from './load.js';
import { trainDiffusion } from './train.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const quiet = { write: () => {} };

describe('evaluateDiffusion', () => {
  it('bounds bits per byte beside the exact autoregressive figure, and scores filled gaps for both', async () => {
    const [dllm, ar] = [tempDir(), tempDir()];
    await trainDiffusion({ preset: micro, out: dllm, steps: 2, data, device, sink: quiet });
    await pretrain({ preset: micro, out: ar, steps: 2, data, device, sink: quiet });
    const seen: string[] = [];
    const r = await evaluateDiffusion(dllm, {
      ar,
      repeats: 2,
      spans: 8,
      gapLengths: [1, 3],
      device,
      onProgress: (what) => seen.push(what),
    });
    const exact = await evaluateCheckpoint(ar, { data, seqLen: micro.seqLen, device });
    expect(r.tokens).toBe(exact.tokens);
    expect(r.bitsPerByte.autoregressive).toBe(exact.bitsPerByte);
    const { bound, standardError, repeats } = r.bitsPerByte.diffusion;
    expect(repeats).toHaveLength(2);
    expect(bound).toBeCloseTo((repeats[0]! + repeats[1]!) / 2, 10);
    expect(standardError).toBeCloseTo(Math.abs(repeats[0]! - repeats[1]!) / 2, 10);
    // Two steps from random weights: the bound is near the uniform distribution's cost.
    expect(bound).toBeGreaterThan(exact.bitsPerByte * 0.5);
    expect(r.fill.map((f) => [f.length, f.spans, f.diffusion.forwardPasses])).toEqual([
      [1, 8, 1],
      [3, 8, 3],
    ]);
    for (const f of r.fill)
      for (const s of [f.diffusion, f.autoregressive]) {
        expect(s.tokenAccuracy).toBeGreaterThanOrEqual(0);
        expect(s.tokenAccuracy).toBeLessThanOrEqual(1);
        expect(s.exactMatch).toBeLessThanOrEqual(s.tokenAccuracy + 1e-12);
      }
    // Context use: with the whole window masked every window's middle position sees the same
    // input, so its figure is the cross-entropy of the middle tokens under one distribution.
    const { model, tokenizer } = loadDiffusionCheckpoint(dllm, device);
    const ids = tokenizer.encode(splitText(readText(data)).val, { disallowedSpecial: [] });
    const window = micro.seqLen;
    const stride = Math.floor((ids.length - window) / 8);
    const middles = Array.from({ length: 8 }, (_, i) => ids[i * stride + window / 2]!);
    const blank = T.tensor(new Int32Array(window).fill(model.maskId), {
      shape: [1, window],
      device,
    });
    const logp = await T.noGrad(() => T.logSoftmax(model.forward(blank), -1)).data();
    const expected =
      -middles.reduce((s, id) => s + logp[(window / 2) * model.vocabSize + id]!, 0) / 8;
    expect(r.context.windows).toBe(8);
    expect(r.context.noneVisible).toBeCloseTo(expected, 4);
    for (const v of Object.values(r.context)) expect(Number.isFinite(v) && v > 0).toBe(true);
    model.dispose();
    expect(seen).toContain('bound 2/2');
    expect(seen).toContain('fill 3, autoregressive');
  });

  it('refuses an autoregressive run with another tokenizer', async () => {
    const [dllm, ar] = [tempDir(), tempDir()];
    await trainDiffusion({ preset: micro, out: dllm, steps: 1, data, device, sink: quiet });
    const other = textFile(shakespeare(120_000).slice(60_000));
    await pretrain({ preset: micro, out: ar, steps: 1, data: other, device, sink: quiet });
    await expect(evaluateDiffusion(dllm, { ar, data, device })).rejects.toThrow(
      `dllm eval: ${ar} encodes the validation text differently from ${dllm}`,
    );
  });
});
