import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { evaluateCheckpoint } from '../evaluate.js';
import { data, tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro } from '../test-utils/tuning.js';
import { trainRewardModel } from '../tuning/reward.js';
import { sft } from '../tuning/sft.js';
import { evaluateStage } from './evaluation.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const quiet = { write: () => {} };

describe('evaluateStage', () => {
  it('measures the held-out questions sft measures, before (the pretrained model) and after tuning', async () => {
    const pretrain = await pretrainedMicro(device);
    const out = tempDir();
    const tuned = await sft({ from: pretrain, out, recipe: microRecipe, device, sink: quiet });
    const o = { device, pretrain, recipe: microRecipe };
    const before = (await evaluateStage('pretrain', pretrain, o)).row;
    const { row: after, answers } = await evaluateStage('sft', out, o);
    expect([before.accuracy, before.format]).toEqual([tuned.before.accuracy, tuned.before.format]);
    expect([after.accuracy, after.format]).toEqual([tuned.after.accuracy, tuned.after.format]);
    expect(answers).toEqual(
      tuned.scores.answers.map((a) => ({ question: a.question, reply: a.reply })),
    );
    expect(after.sample).toEqual({
      question: tuned.scores.answers[0]!.question,
      reply: tuned.scores.answers[0]!.reply,
    });
    // Bits per byte over the whole validation split of the text the model was pretrained on.
    expect(after.bitsPerByte).toBe((await evaluateCheckpoint(out, { data, device })).bitsPerByte);
    expect(after.preferenceAccuracy).toBeNull();
    // GRPO's held-out multi-step arithmetic, greedy: a share of the problems.
    for (const row of [before, after]) {
      expect(row.arithmetic).toBeGreaterThanOrEqual(0);
      expect(row.arithmetic).toBeLessThanOrEqual(1);
    }

    const reward = tempDir();
    const rm = await trainRewardModel({
      from: out,
      out: reward,
      recipe: microRecipe,
      device,
      sink: quiet,
    });
    expect(await evaluateStage('reward', reward, o)).toEqual({
      row: {
        stage: 'reward',
        bitsPerByte: null,
        accuracy: null,
        format: null,
        arithmetic: null,
        preferenceAccuracy: rm.after.accuracy,
        sample: null,
      },
      answers: [],
    });
  });
});
