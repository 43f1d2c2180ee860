import * as T from '@tessera/tensor-webgpu';
import { trainBpe } from '@tessera/tokenizer';
import { DecoderLM } from '@tessera/transformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchAt } from '../batch.js';
import { languageModelStep } from '../lm-step.js';
import { buildOptimizer } from '../optimizer.js';
import { PRESETS } from '../presets.js';
import {
  checkpointState,
  checkpointTokenizer,
  encodeCheckpoint,
  restoreCheckpoint,
} from './train-checkpoint.js';

const TEXT = 'To be, or not to be, that is the question: whether tis nobler in the mind. '.repeat(
  8,
);
const preset = PRESETS['tiny']!;

describe('the training page checkpoint', () => {
  let device: T.Device;
  beforeAll(async () => {
    device = await T.createDevice({ backend: 'cpu' });
  });

  const tokenizer = trainBpe([TEXT], { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
  const ids = Int32Array.from(tokenizer.encode(TEXT));
  /** A small decoder and the page's optimizer (AdamW on warmup + cosine over `steps`). */
  const build = () => {
    const model = new DecoderLM(
      { vocabSize: tokenizer.vocabSize, dModel: 16, layers: 1, heads: 2, maxSeqLen: 8, seed: 1 },
      device,
    );
    return { model, optimizer: buildOptimizer('adamw', model, preset, 6).optimizer };
  };
  const step = (run: ReturnType<typeof build>, n: number) =>
    languageModelStep(run.model, run.optimizer, batchAt(ids, 2, 8, n, device));

  it('restored into a fresh model and optimizer, continues exactly as the run it saved', async () => {
    const run = build();
    const losses = [await step(run, 1), await step(run, 2)];
    const state = { step: 2, steps: 6, losses };
    const bytes = await encodeCheckpoint({ ...run, tokenizer, state });
    const next = await step(run, 3);

    expect(checkpointState(bytes)).toEqual(state);
    const restoredTokenizer = checkpointTokenizer(bytes);
    expect(restoredTokenizer.encode(TEXT)).toEqual(tokenizer.encode(TEXT));
    const resumed = build();
    await restoreCheckpoint(bytes, resumed.model, resumed.optimizer);
    expect(resumed.optimizer.stateDict().step).toBe(2); // the schedule continues where it was
    expect(await step(resumed, 3)).toBe(next);
    // A fresh run (no restore) takes another step 3.
    expect(await step(build(), 3)).not.toBe(next);
  });

  it('refuses a safetensors file of another layout, and a state without one loss per step', async () => {
    const plain = await T.saveSafetensors({ w: T.zeros([2], { device }) });
    expect(() => checkpointState(plain)).toThrow(
      'the training checkpoint: metadata "format" is undefined, expected "tessera-train-page/1"',
    );
    const run = build();
    const bytes = await encodeCheckpoint({
      ...run,
      tokenizer,
      state: { step: 2, steps: 6, losses: [5] },
    });
    expect(() => checkpointState(bytes)).toThrow(
      'the training checkpoint: metadata "state" is {"step":2,"steps":6,"losses":[5]}, expected { step, steps, losses } with one loss per step',
    );
  });

  it('refuses weights of another model, naming the keys', async () => {
    const run = build();
    const bytes = await encodeCheckpoint({
      ...run,
      tokenizer,
      state: { step: 0, steps: 6, losses: [] },
    });
    const other = new DecoderLM(
      { vocabSize: tokenizer.vocabSize, dModel: 16, layers: 2, heads: 2, maxSeqLen: 8, seed: 1 },
      device,
    );
    await expect(
      restoreCheckpoint(bytes, other, buildOptimizer('adamw', other, preset, 6).optimizer),
    ).rejects.toThrow(/loadStateDict: missing keys: model\.layers\.1\./);
  });
});
