import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { evaluateCheckpoint } from '../evaluate.js';
import { pretrain } from '../pretrain.js';
import { data, micro, shakespeare, tempDir, textFile } from '../test-utils/fixtures.js';
import { evaluateDiffusion } from './evaluate.js';
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
