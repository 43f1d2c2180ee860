import * as T from '@tessera/tensor-webgpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../presets.js';
import { encodeCheckpoint } from './train-checkpoint.js';
import { newRun, resumedRun, trainStep } from './train-run.js';

const TEXT = 'To be, or not to be, that is the question: whether tis nobler in the mind. '.repeat(
  8,
);
/** The tiny preset's recipe on a model and batch small enough for the CPU reference. */
const preset = {
  ...PRESETS['tiny']!,
  vocabSize: 270,
  model: { ...PRESETS['tiny']!.model, dModel: 16, layers: 1, maxSeqLen: 8 },
  batchSize: 2,
  seqLen: 8,
};

describe('the training page run', () => {
  let device: T.Device;
  beforeAll(async () => {
    device = await T.createDevice({ backend: 'cpu' });
  });

  it('a new run trains the tokenizer, then each step appends its loss', async () => {
    const run = newRun(preset, TEXT, 4, device);
    expect(run.tokenizer.vocabSize).toBe(270);
    expect(run.tokenizer.decode(Array.from(run.ids))).toBe(TEXT);
    const loss = await trainStep(run);
    expect(Number.isFinite(loss)).toBe(true);
    expect(run.state).toEqual({ step: 1, steps: 4, losses: [loss] });
  });

  it('resumed from its saved bytes, takes the steps the uninterrupted run takes', async () => {
    const run = newRun(preset, TEXT, 4, device);
    await trainStep(run);
    await trainStep(run);
    const bytes = await encodeCheckpoint(run);
    await trainStep(run);
    await trainStep(run);

    const resumed = await resumedRun(bytes, preset, TEXT, device);
    expect(resumed.state).toEqual({ step: 2, steps: 4, losses: run.state.losses.slice(0, 2) });
    await trainStep(resumed);
    await trainStep(resumed);
    expect(resumed.state).toEqual(run.state); // the same losses, to the last bit
  });
});
