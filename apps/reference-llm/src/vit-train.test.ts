import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { FILES, readCheckpoint } from './run-folder.js';
import { tempDir } from './test-utils/fixtures.js';
import type { VitState } from './vit-checkpoint.js';
import { type VitTrainOptions, vitTrain } from './vit-train.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

/** A miniature ViT and recipe, so that a run takes seconds (the held-out 2,000 are still scored). */
const small = (o: Partial<VitTrainOptions> & { out: string }) =>
  vitTrain({
    model: { dModel: 16, layers: 1, heads: 2, ffnHidden: 32 },
    steps: 6,
    batchSize: 16,
    evalEvery: 3,
    saveEvery: 3,
    baseline: false,
    device,
    sink: { write: () => {} },
    ...o,
  });

const weights = (dir: string) =>
  T.loadSafetensors(new Uint8Array(readCheckpoint(dir).read(FILES.model)), { device: cpu });

describe('vit train', () => {
  it('a run stopped at step 3 and resumed ends with the weights of an uninterrupted run', async () => {
    const straight = tempDir();
    const a = await small({ out: straight });
    const dir = tempDir();
    const stop: { reason?: 'SIGINT' } = {};
    const first = await small({
      out: dir,
      stop,
      sink: {
        write: (t) => {
          if (t.startsWith('step 3/')) stop.reason = 'SIGINT'; // after step 3's evaluation
        },
      },
    });
    expect(first).toMatchObject({ stopReason: 'SIGINT', vit: { steps: 3 } });
    const resumed = await small({
      out: dir,
      resume: true,
      model: undefined,
      steps: undefined,
      batchSize: undefined,
    });
    expect(resumed.vit.steps).toBe(6);
    const state = readCheckpoint<VitState>(dir).state;
    expect(state.history.trainLoss).toHaveLength(6);
    for (let i = 0; i < 6; i++)
      expect(state.history.trainLoss[i]).toBeCloseTo(a.vit.history.trainLoss[i]!, 5);
    const [w1, w2] = [weights(straight), weights(dir)];
    for (const name of Object.keys(w1)) {
      const [x, y] = [await w1[name]!.data(), await w2[name]!.data()];
      for (let i = 0; i < x.length; i++) expect(y[i]).toBeCloseTo(x[i]!, 5);
    }
    expect(resumed.vit.test.accuracy).toBeCloseTo(a.vit.test.accuracy, 3);
  });

  it('trains the MLP baseline for the same steps, and reports with its pictures', async () => {
    const dir = tempDir();
    const r = await small({ out: dir, baseline: true });
    expect(r.mlp).toMatchObject({ steps: 6 });
    // Ten classes: the held-out digits are scored, and each confusion row sums to its class.
    const total = r.confusion.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(2000);
    const correct = r.confusion.reduce((s, row, c) => s + row[c]!, 0);
    expect(correct / 2000).toBeCloseTo(r.vit.test.accuracy, 6);
    expect(r.mlp!.test.accuracy).toBeGreaterThan(0.15); // six steps lift it above chance (0.1)
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    for (const file of ['loss.svg', 'accuracy.svg', 'confusion.svg', 'rollout.svg'])
      expect(report).toContain(`(${file})`);
    expect(report).toMatch(/\| ViT test accuracy \| \d+\.\d\d% \(loss/);
    expect(report).toMatch(/\| MLP test accuracy \| \d+\.\d\d% \(\d+ parameters, same steps\) \|/);
    const summary = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(summary.vit.test.accuracy).toBe(r.vit.test.accuracy);
    expect(summary.history.map((v: { step: number }) => v.step)).toEqual([3, 6]);
  });

  it('refuses to resume with other settings or from another stage', async () => {
    const dir = tempDir();
    await small({ out: dir, steps: 2 });
    await expect(small({ out: dir, resume: true, model: undefined, steps: 4 })).rejects.toThrow(
      /steps 4 conflicts with the checkpoint, which was started with 2 \(.*tessera\.json field "recipe\.steps"\)/,
    );
    await expect(small({ out: dir, resume: true, steps: undefined })).rejects.toThrow(
      /the model is fixed by the checkpoint/,
    );
    await expect(small({ out: dir, steps: undefined })).rejects.toThrow(
      /holds a checkpoint at step 2 of 2; pass --resume to continue it or --force/,
    );
    const stateFile = join(readCheckpoint(dir).folder, FILES.state);
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    writeFileSync(stateFile, JSON.stringify({ ...state, stage: 'pretrain' }));
    await expect(
      small({ out: dir, resume: true, model: undefined, steps: undefined }),
    ).rejects.toThrow(/field "stage" is "pretrain", expected "vit"/);
  });
});
