import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { byteLength, readText, splitText } from '../data.js';
import { trainTokenizer } from '../pretrain.js';
import { FILES, readCheckpoint } from '../run-folder.js';
import { data, micro, tempDir } from '../test-utils/fixtures.js';
import { loadDiffusionCheckpoint } from './load.js';
import { MASK_TOKEN } from './tokenizer.js';
import { trainDiffusion } from './train.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const quiet = { write: () => {} };
const run = (o: Partial<Parameters<typeof trainDiffusion>[0]> = {}) =>
  trainDiffusion({ preset: micro, out: tempDir(), steps: 8, data, device, sink: quiet, ...o });

const weights = (dir: string) =>
  T.loadSafetensors(new Uint8Array(readCheckpoint(dir).read(FILES.model)), { device });

describe('dllm train', () => {
  it("uses pretrain's tokenizer plus the mask token, and writes a checkpoint and a report", async () => {
    const dir = tempDir();
    const r = await run({ out: dir });
    expect(r.steps).toBe(8);
    for (const loss of r.trainLoss) expect(Number.isFinite(loss)).toBe(true);
    const { model, tokenizer } = loadDiffusionCheckpoint(dir, device);
    const { train, val } = splitText(readText(data));
    const pretrained = trainTokenizer(train, micro);
    expect(tokenizer.vocabSize).toBe(pretrained.vocabSize + 1);
    expect(model.maskId).toBe(pretrained.vocabSize);
    expect(tokenizer.specialTokens[MASK_TOKEN]).toBe(model.maskId);
    const sample = val.slice(0, 2000);
    expect(tokenizer.encode(sample, { disallowedSpecial: [] })).toEqual(
      pretrained.encode(sample, { disallowedSpecial: [] }),
    );
    expect(readCheckpoint(dir).state).toMatchObject({ stage: 'dllm', maskId: model.maskId });
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ stage: 'dllm', steps: 8, maskId: model.maskId });
    // Validation: the loss and the bits per byte it bounds, from the same figures.
    const last = r.val.at(-1)!;
    const valTokens = tokenizer.encode(val, { disallowedSpecial: [] }).length;
    expect(last.bpb).toBeCloseTo((last.loss * valTokens) / Math.LN2 / byteLength(val), 6);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('ELBO bound');
    model.dispose();
  });

  it('a run stopped at step 4 and resumed ends with the loss and weights of an uninterrupted run', async () => {
    const straight = tempDir();
    const a = await run({ out: straight });
    const dir = tempDir();
    const stop: { reason?: 'SIGINT' } = {};
    const first = await run({
      out: dir,
      evalEvery: 4,
      stop,
      sink: {
        write: (t) => {
          if (t.startsWith('step 4/')) stop.reason = 'SIGINT';
        },
      },
    });
    expect(first).toMatchObject({ steps: 4, stopReason: 'SIGINT' });
    const resumed = await run({ out: dir, steps: undefined, resume: true });
    expect(resumed.trainLoss).toHaveLength(8);
    for (let i = 0; i < 8; i++) expect(resumed.trainLoss[i]).toBeCloseTo(a.trainLoss[i]!, 5);
    const [w1, w2] = [weights(straight), weights(dir)];
    for (const name of Object.keys(w1)) {
      const [x, y] = [await w1[name]!.data(), await w2[name]!.data()];
      for (let i = 0; i < x.length; i++) expect(y[i]).toBeCloseTo(x[i]!, 6);
    }
  });

  it('refuses another stage, conflicting flags and an existing checkpoint, naming them', async () => {
    const dir = tempDir();
    await run({ out: dir, steps: 2 });
    await expect(run({ out: dir, steps: 2 })).rejects.toThrow(
      /pass --resume to continue it or --force/,
    );
    await expect(run({ out: dir, steps: 5, resume: true })).rejects.toThrow(
      /--steps 5 conflicts with the checkpoint, which was started with 2/,
    );
    await expect(
      run({ out: dir, steps: undefined, preset: 'small', resume: true }),
    ).rejects.toThrow(/--preset small conflicts with the checkpoint, which was started with micro/);
    const { pretrain } = await import('../pretrain.js');
    const ar = tempDir();
    await pretrain({ preset: micro, out: ar, steps: 1, data, device, sink: quiet });
    expect(() => loadDiffusionCheckpoint(ar, device)).toThrow(
      /field "stage" is "pretrain", expected "dllm" \(a diffusion model; train one with `dllm train`\)/,
    );
  });
});
