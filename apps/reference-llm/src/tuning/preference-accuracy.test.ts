import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { readModel, readTokenizer } from '../load.js';
import type { PretrainState } from '../pretrain.js';
import { readCheckpoint } from '../run-folder.js';
import { pretrainedMicro } from '../test-utils/tuning.js';
import { addChatTokens, ChatFormat, resizeVocabulary } from './chat-format.js';
import { preferenceData } from './datasets.js';
import { sourceText } from './examples.js';
import type { PreferenceExample } from './jsonl.js';
import { encodePair } from './pairs.js';
import { likelihoodPreferenceAccuracy } from './preference-accuracy.js';

const { cpu } = await testDevices();
const ckpt = readCheckpoint<PretrainState>(await pretrainedMicro(cpu));
const pretrained = readModel(ckpt, cpu);
const tokenizer = addChatTokens(readTokenizer(ckpt, pretrained.vocabSize));
// The pretrained model with the chat tokens added, as the pipeline measures it.
const model = resizeVocabulary(pretrained, tokenizer.vocabSize).eval();
const chat = new ChatFormat(tokenizer);
const pairs = preferenceData(1, sourceText(ckpt), { train: 0, heldout: 7 }).heldout;

/** Mean log-probability of a conversation's completion tokens, one row at a time on the CPU. */
async function meanReplyLogprob(e: { ids: ArrayLike<number>; completionMask?: ArrayLike<number> }) {
  const ids = Array.from(e.ids);
  const x = T.tensor(Int32Array.from(ids.slice(0, -1)), {
    shape: [1, ids.length - 1],
    device: cpu,
  });
  const y = T.tensor(Int32Array.from(ids.slice(1)), { shape: [ids.length - 1], device: cpu });
  const nll = await T.noGrad(() =>
    T.crossEntropy(T.reshape(model.forward(x), [-1, model.vocabSize]), y, { reduction: 'none' }),
  ).data();
  const scored = ids.map((_, t) => t).filter((t) => t > 0 && e.completionMask![t] === 1);
  return -scored.reduce((s, t) => s + nll[t - 1]!, 0) / scored.length;
}

describe('likelihoodPreferenceAccuracy', () => {
  it("is the share of pairs whose chosen reply has the higher mean token log-probability, whatever the batch's padding", async () => {
    let expected = 0;
    for (const p of pairs) {
      const { chosen, rejected } = encodePair(chat, p);
      if ((await meanReplyLogprob(chosen)) > (await meanReplyLogprob(rejected))) expected++;
    }
    expected /= pairs.length;
    for (const batchSize of [1, 3, 7])
      expect(await likelihoodPreferenceAccuracy(model, chat, pairs, batchSize)).toBeCloseTo(
        expected,
        10,
      );
  });

  it('counts a pair or its swap, never both, and a tie as a miss', async () => {
    const swapped = pairs.map((p) => ({ ...p, chosen: p.rejected, rejected: p.chosen }));
    const a = await likelihoodPreferenceAccuracy(model, chat, pairs, 4);
    const b = await likelihoodPreferenceAccuracy(model, chat, swapped, 4);
    expect(a + b).toBeCloseTo(1, 10);
    const same: PreferenceExample = { ...pairs[0]!, rejected: pairs[0]!.chosen };
    expect(await likelihoodPreferenceAccuracy(model, chat, [same], 1)).toBe(0);
  });

  it('refuses no pairs and a bad batch size', async () => {
    await expect(likelihoodPreferenceAccuracy(model, chat, [], 4)).rejects.toThrow(
      'likelihoodPreferenceAccuracy: pairs is empty; expected at least one pair',
    );
    await expect(likelihoodPreferenceAccuracy(model, chat, pairs, 0)).rejects.toThrow(
      'likelihoodPreferenceAccuracy: batchSize 0; expected a positive integer',
    );
  });
});
