import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { FILES, readCheckpoint } from '../run-folder.js';
import { data, micro, tempDir } from '../test-utils/fixtures.js';
import { loadDiffusionCheckpoint } from './load.js';
import { trainDiffusion } from './train.js';

const { cpu } = await testDevices();

/** Rewrites `tessera.json` with `patch` applied. */
function patchState(dir: string, patch: Record<string, unknown>) {
  const { stateFile } = readCheckpoint(dir);
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  writeFileSync(stateFile, JSON.stringify({ ...state, ...patch }));
}

describe('loadDiffusionCheckpoint', () => {
  it('loads the model in eval mode with its tokenizer; names a wrong mask id or weights', async () => {
    const dir = tempDir();
    await trainDiffusion({
      preset: micro,
      out: dir,
      steps: 1,
      data,
      device: cpu,
      sink: { write: () => {} },
    });
    const { model, tokenizer } = loadDiffusionCheckpoint(dir, cpu);
    expect(model.training).toBe(false);
    expect(tokenizer.vocabSize).toBe(model.vocabSize);
    const { folder, stateFile } = readCheckpoint(dir);
    patchState(dir, { maskId: 3 });
    expect(() => loadDiffusionCheckpoint(dir, cpu)).toThrow(
      `${join(folder, FILES.tokenizer)}: has <|mdm_mask|> at ${model.maskId}, the model's mask id is 3 (${FILES.state} field maskId)`,
    );
    patchState(dir, { maskId: 10_000 });
    expect(() => loadDiffusionCheckpoint(dir, cpu)).toThrow(
      new RegExp(
        `${stateFile}: fields "model" and "maskId" are not valid \\(MaskedDiffusionLM: maskId must be an integer`,
      ),
    );
    const bad = new Uint8Array(16);
    writeFileSync(join(folder, FILES.model), bad);
    patchState(dir, {
      maskId: model.maskId,
      files: {
        ...readCheckpoint(dir).state.files,
        [FILES.model]: createHash('sha256').update(bad).digest('hex'),
      },
    });
    expect(() => loadDiffusionCheckpoint(dir, cpu)).toThrow(
      /model\.safetensors: is corrupt or does not match the config/,
    );
    model.dispose();
  });
});
