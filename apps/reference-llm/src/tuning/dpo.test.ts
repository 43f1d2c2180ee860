import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro } from '../test-utils/tuning.js';
import { dpo } from './dpo.js';
import { sft } from './sft.js';
import type { StageState } from './stage.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const quiet = { write: () => {} };
const chatModel = tempDir();
await sft({
  from: await pretrainedMicro(device),
  out: chatModel,
  recipe: microRecipe,
  device,
  sink: quiet,
  steps: 4,
});
const run = (o: Partial<Parameters<typeof dpo>[0]> = {}) =>
  dpo({ from: chatModel, out: tempDir(), recipe: microRecipe, device, sink: quiet, ...o });

describe('dpo', () => {
  it('starts at ln 2 with no margin (policy = reference), then separates chosen from rejected', async () => {
    const out = tempDir();
    const r = await run({ out, steps: 12, lr: 5e-3, beta: 0.5, rpoAlpha: 0 });
    expect(r.before.loss).toBeCloseTo(Math.LN2, 5);
    expect(r.before).toMatchObject({ accuracy: 0, margin: 0 });
    const state = readCheckpoint<StageState>(out).state;
    expect(state.metrics[0]!.loss).toBeCloseTo(Math.LN2, 5); // the first step too
    const margins = state.metrics.map((m) => m.margin!);
    expect(margins.slice(-3).reduce((a, b) => a + b) / 3).toBeGreaterThan(0);
    expect(r.before.taskAccuracy).toBeDefined();
    expect(r.after.format).toBeDefined();
  });

  it('SimPO needs no reference; a resume refuses another loss', async () => {
    const out = tempDir();
    const r = await run({ out, loss: 'simpo', steps: 4 });
    expect(r.steps).toBe(4);
    await expect(run({ out, resume: true, loss: 'ipo' })).rejects.toThrow(
      /--loss "ipo" conflicts with the checkpoint, which was started with "simpo"/,
    );
  });
});
