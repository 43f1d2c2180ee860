import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { fromHuggingFaceJson, trainBpe } from '@tessera/tokenizer';
import { describe, expect, it } from 'vitest';
import { type CheckpointStateBase, FILES, readCheckpoint } from './run-folder.js';
import { huggingFaceFiles, saveCheckpoint } from './save-checkpoint.js';
import { tempDir } from './test-utils/fixtures.js';

const device = await T.createDevice({ backend: 'cpu' });

describe('huggingFaceFiles', () => {
  it('writes the tokenizer as tokenizer.json (it reads back to the same ids) and the config as config.json', () => {
    const tokenizer = trainBpe(['to be or not to be, that is the question'], {
      vocabSize: 270,
      specialTokens: ['<|endoftext|>'],
    });
    const files = huggingFaceFiles(tokenizer, { vocab_size: 270, model_type: 'llama' });
    expect(Object.keys(files).sort()).toEqual([FILES.hfConfig, FILES.tokenizer]);
    expect(JSON.parse(files[FILES.hfConfig]!)).toEqual({ vocab_size: 270, model_type: 'llama' });
    const back = fromHuggingFaceJson(files[FILES.tokenizer]!);
    expect(back.encode('that is the question')).toEqual(tokenizer.encode('that is the question'));
  });
});

describe('saveCheckpoint', () => {
  const setup = async () => {
    const w = T.tensor([1, 2, 3], { device, requiresGrad: true });
    const optimizer = new AdamW([w], { lr: 0.1 });
    optimizer.zeroGrad();
    T.sum(T.mul(w, w)).backward();
    optimizer.step();
    return { w, optimizer };
  };

  it('saves weights, files, the optimizer state (tensors, fields and name) and the state as one checkpoint', async () => {
    const dir = tempDir();
    const { w, optimizer } = await setup();
    const weights = await T.saveSafetensors({ w });
    await saveCheckpoint(dir, 'test', {
      weights: { [FILES.model]: weights },
      files: { 'note.txt': 'hello' },
      optimizer,
      optimizerName: 'adamw',
      state: { step: 1, totalSteps: 4, stage: 'test' },
    });
    const ckpt = readCheckpoint<CheckpointStateBase & Record<string, unknown>>(dir);
    ckpt.verify();
    expect([...ckpt.read(FILES.model)]).toEqual([...weights]);
    expect(ckpt.read('note.txt').toString()).toBe('hello');
    const { tensors, ...fields } = optimizer.stateDict();
    expect(ckpt.state).toMatchObject({ step: 1, totalSteps: 4, stage: 'test' });
    expect(ckpt.state.optimizer).toEqual({ name: 'adamw', ...fields });
    const saved = T.loadSafetensors(new Uint8Array(ckpt.read(FILES.optimizer)), { device });
    expect(Object.keys(saved).sort()).toEqual(Object.keys(tensors).sort());
    for (const [k, t] of Object.entries(tensors))
      expect(Array.from(await saved[k]!.data())).toEqual(Array.from(await t.data()));
  });

  it('never saves weights that are not finite, naming the file and the tensor, and keeps the previous checkpoint', async () => {
    const dir = tempDir();
    const { w, optimizer } = await setup();
    const save = async (value: number, step: number) =>
      saveCheckpoint(dir, 'sft', {
        weights: { [FILES.model]: await T.saveSafetensors({ w: T.mul(w, value) }) },
        files: {},
        optimizer,
        state: { step, totalSteps: 4 },
      });
    await expect(save(Number.NaN, 1)).rejects.toThrow(
      'sft: refusing to save weights that are not finite at step 1 (model.safetensors: tensor w[0] = NaN); no checkpoint was written',
    );
    await save(1, 1);
    const pointer = readFileSync(join(dir, FILES.pointer), 'utf8');
    await expect(save(Number.POSITIVE_INFINITY, 2)).rejects.toThrow(
      `sft: refusing to save weights that are not finite at step 2 (model.safetensors: tensor w[0] = Infinity); the previous checkpoint in ${dir} is kept`,
    );
    expect(readFileSync(join(dir, FILES.pointer), 'utf8')).toBe(pointer);
    expect(readCheckpoint(dir).state.step).toBe(1);
  });
});
