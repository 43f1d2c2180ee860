import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro } from '../test-utils/tuning.js';
import { ARITHMETIC_TASK, arithmeticData } from './arithmetic.js';
import { heldoutArithmetic } from './arithmetic-task.js';
import { readChatModel } from './chat-model.js';
import { scoreReplies } from './replies.js';
import { sft } from './sft.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('heldoutArithmetic', () => {
  it('scores the first held-out problems of a grpo run of the same seed through the runner, as the run scores them', async () => {
    const out = tempDir();
    await sft({
      from: await pretrainedMicro(device),
      out,
      recipe: microRecipe,
      device,
      sink: { write: () => {} },
      steps: 2,
    });
    const { model, chat } = readChatModel(readCheckpoint(out), device);
    const r = await heldoutArithmetic(model, chat, out, {
      seed: 3,
      count: 6,
      maxNewTokens: 8,
    });
    const run = arithmeticData(3, { train: 40, heldout: 10 }).heldout.slice(0, 6);
    const want = await scoreReplies(model, chat, run, { maxNewTokens: 8 });
    expect(r).toEqual({
      task: ARITHMETIC_TASK,
      n: 6,
      numFewshot: 0,
      metrics: { accuracy: want.accuracy, format: want.format },
    });
    model.dispose();
  });
});
