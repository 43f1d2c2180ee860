import { join } from 'node:path';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { evaluateCheckpoint } from '../evaluate.js';
import { readCheckpoint } from '../run-folder.js';
import { data, tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro } from '../test-utils/tuning.js';
import { arithmeticData } from '../tuning/arithmetic.js';
import { readChatModel } from '../tuning/chat-model.js';
import { preferenceData } from '../tuning/datasets.js';
import { sourceText } from '../tuning/examples.js';
import { writeJsonl } from '../tuning/jsonl.js';
import { likelihoodPreferenceAccuracy } from '../tuning/preference-accuracy.js';
import { scoreReplies } from '../tuning/replies.js';
import { trainRewardModel } from '../tuning/reward.js';
import { sft } from '../tuning/sft.js';
import { evaluateStage } from './evaluation.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const quiet = { write: () => {} };

describe('evaluateStage', () => {
  it('measures the held-out questions sft measures through the benchmark runner, with the figures sft computes, before (the pretrained model) and after tuning', async () => {
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
    // GRPO's held-out arithmetic, scored directly as grpo scores it, and the held-out pairs DPO
    // generates, scored by mean token log-likelihood, on the SFT model as its own command loads it.
    const { model, chat } = readChatModel(readCheckpoint(out), device);
    const problems = arithmeticData(1, { train: 0, heldout: microRecipe.grpo.heldout }).heldout;
    const direct = await scoreReplies(model.eval(), chat, problems, {
      maxNewTokens: microRecipe.grpo.maxNewTokens,
    });
    expect(after.arithmetic).toBe(direct.accuracy);
    const pairs = preferenceData(1, sourceText(readCheckpoint(pretrain)), {
      train: 0,
      heldout: microRecipe.dpo.heldout,
    }).heldout;
    const byLikelihood = await likelihoodPreferenceAccuracy(
      model.eval(),
      chat,
      pairs,
      microRecipe.dpo.batchSize,
    );
    expect(after.likelihoodPreferenceAccuracy).toBe(byLikelihood);
    // A pairs file is read instead: the same pairs swapped score the other way (no ties here).
    const swapped = join(tempDir(), 'pairs-heldout.jsonl');
    writeJsonl(
      swapped,
      pairs.map((p) => ({ ...p, chosen: p.rejected, rejected: p.chosen })),
    );
    const fromFile = (await evaluateStage('sft', out, { ...o, pairs: swapped })).row;
    expect(fromFile.likelihoodPreferenceAccuracy).toBeCloseTo(1 - byLikelihood, 10);
    model.dispose();

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
        likelihoodPreferenceAccuracy: null,
        preferenceAccuracy: rm.after.accuracy,
        sample: null,
      },
      answers: [],
    });
  });
});
