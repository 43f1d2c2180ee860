import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro } from '../test-utils/tuning.js';
import { arithmeticData } from './arithmetic.js';
import { readChatModel } from './chat-model.js';
import { majorityAnswer, majorityVoteAccuracy } from './majority-vote.js';
import { sft } from './sft.js';

describe('majorityAnswer', () => {
  it.each([
    [['3', '4', '3'], '3'],
    [['4', '3', '3', '4'], '3'], // a tie goes to the answer that reached the count first
    [['4', '3', '4', '3'], '4'],
    [['3', '4', '4', '3', '3'], '3'],
    [[undefined, undefined, '5'], '5'], // replies without an answer do not vote
    [[undefined], undefined],
    [[], undefined],
  ])('%j → %j', (answers, want) => {
    expect(majorityAnswer(answers)).toBe(want);
  });
});

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('majorityVoteAccuracy', () => {
  it('scores the majority of the first k samples of each question against its reference', async () => {
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
    const { heldout } = arithmeticData(1, { train: 0, heldout: 5 });
    // A reference whose answer is what the model says most often makes the vote right.
    const r = await majorityVoteAccuracy(model, chat, heldout, {
      samples: [1, 3],
      maxNewTokens: 6,
      temperature: 1,
      seed: 4,
    });
    expect(r.answers).toHaveLength(5);
    for (const a of r.answers) expect(a).toHaveLength(3);
    const wanted = heldout.map((q) => q.messages[1]!.content.split('Answer: ')[1]);
    const share = (k: number) =>
      wanted.filter(
        (w, i) => majorityAnswer(r.answers[i]!.slice(0, k).map((a) => a ?? undefined)) === w,
      ).length / 5;
    expect(r.accuracy).toEqual({ 1: share(1), 3: share(3) });
    const again = await majorityVoteAccuracy(model, chat, heldout, {
      samples: [1, 3],
      maxNewTokens: 6,
      temperature: 1,
      seed: 4,
    });
    expect(again.answers).toEqual(r.answers); // seeded
    const rigged = heldout.map((q, i) => ({
      ...q,
      messages: [
        q.messages[0]!,
        { role: 'assistant' as const, content: `Answer: ${r.answers[i]![0] ?? 'x'}` },
      ],
    }));
    const one = await majorityVoteAccuracy(model, chat, rigged, {
      samples: [1],
      maxNewTokens: 6,
      temperature: 1,
      seed: 4,
    });
    expect(one.accuracy[1]).toBe(r.answers.filter((a) => a[0] !== null).length / 5);
    await expect(
      majorityVoteAccuracy(model, chat, heldout, {
        samples: [0],
        maxNewTokens: 6,
        temperature: 1,
        seed: 4,
      }),
    ).rejects.toThrow('majorityVoteAccuracy: samples must be integers >= 1, got [0]');
    model.dispose();
  });
});
