import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { FILES, readCheckpoint } from './run-folder.js';
import { tempDir } from './test-utils/fixtures.js';
import { readVit } from './vit-checkpoint.js';
import { vitTrain } from './vit-train.js';

const cpu = await T.createDevice({ backend: 'cpu' });
const dir = tempDir();
await vitTrain({
  out: dir,
  model: { dModel: 16, layers: 1, heads: 2, ffnHidden: 32, positions: 'rope2d' },
  steps: 1,
  batchSize: 4,
  baseline: false,
  device: cpu,
  sink: { write: () => {} },
});

describe('readVit', () => {
  it('builds the saved ViT with its weights, in evaluation mode', async () => {
    const { vit, ckpt } = readVit(dir, cpu);
    expect(vit.training).toBe(false);
    expect(vit.config).toMatchObject({ dModel: 16, positions: 'rope2d' });
    expect(ckpt.state.split).toEqual({ train: 8000, test: 2000, seed: 0 });
    const saved = T.loadSafetensors(new Uint8Array(ckpt.read(FILES.model)), { device: cpu });
    const cls = await vit.embeddings.cls_token.data();
    expect([...cls]).toEqual([...(await saved['embeddings.cls_token']!.data())]);
  });

  it('names a checkpoint of another stage, a bad config, and replaced weights', () => {
    const stateFile = join(readCheckpoint(dir).folder, FILES.state);
    const original = readFileSync(stateFile, 'utf8');
    const state = JSON.parse(original);
    writeFileSync(stateFile, JSON.stringify({ ...state, stage: 'pretrain' }));
    expect(() => readVit(dir, cpu)).toThrow(
      `${stateFile}: field "stage" is "pretrain": not a checkpoint of vit train`,
    );
    writeFileSync(stateFile, JSON.stringify({ ...state, model: { ...state.model, patchSize: 5 } }));
    expect(() => readVit(dir, cpu)).toThrow(
      /field "model" is not a valid ViT config \(ViT config: patchSize 5/,
    );
    writeFileSync(stateFile, original);
    const weights = join(readCheckpoint(dir).folder, FILES.model);
    const bytes = readFileSync(weights);
    writeFileSync(weights, bytes.subarray(0, bytes.length - 4));
    expect(() => readVit(dir, cpu)).toThrow(/is not the file saved with this checkpoint/);
    writeFileSync(weights, bytes);
    expect(() => readVit(dir, cpu)).not.toThrow();
  });
});
