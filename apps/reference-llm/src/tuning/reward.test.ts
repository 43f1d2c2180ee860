import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro, pretrainedMicroMoE } from '../test-utils/tuning.js';
import { readChatModel } from './chat-model.js';
import { trainRewardModel } from './reward.js';
import { readRewardModel } from './reward-model.js';
import { sft } from './sft.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const quiet = { write: () => {} };
const pretrained = await pretrainedMicro(device);
const chatModel = tempDir();
await sft({ from: pretrained, out: chatModel, recipe: microRecipe, device, sink: quiet, steps: 4 });
const run = (o: Partial<Parameters<typeof trainRewardModel>[0]> = {}) =>
  trainRewardModel({
    from: chatModel,
    out: tempDir(),
    recipe: microRecipe,
    device,
    sink: quiet,
    ...o,
  });

describe('reward', () => {
  it('starts from the chat model’s trunk, learns the training pairs, and saves a LlamaForSequenceClassification', async () => {
    const out = tempDir();
    const r = await run({ out, steps: 12, lr: 1e-2 });
    expect(r.history.val.map((v) => v.step)).toEqual([0, 4, 8, 12]);
    const { model: lm } = readChatModel(readCheckpoint(chatModel), device);
    const rm = readRewardModel(readCheckpoint(out), device);
    // The trunk moved from the chat model's; the head is new.
    expect(Object.keys(rm.stateDict())).toEqual([
      ...Object.keys(lm.model.stateDict()).map((k) => `model.${k}`),
      'score.weight',
    ]);
    const train = r.history.trainLoss;
    expect(train.slice(-3).reduce((a, b) => a + b) / 3).toBeLessThan(
      train.slice(0, 3).reduce((a, b) => a + b) / 3,
    );
    const config = JSON.parse(readCheckpoint(out).read('config.json').toString());
    expect(config).toMatchObject({
      architectures: ['LlamaForSequenceClassification'],
      num_labels: 1,
    });
    for (const f of ['report.md', 'curves.svg', 'data/pairs-heldout.jsonl'])
      expect(existsSync(join(out, f)), f).toBe(true);
  });

  it('refuses a mixture-of-experts chat model before training, saying why', async () => {
    const moeChat = tempDir();
    const from = await pretrainedMicroMoE(device);
    await sft({ from, out: moeChat, recipe: microRecipe, device, sink: quiet, steps: 1 });
    await expect(run({ from: moeChat })).rejects.toThrow(
      `--from ${moeChat}: a mixture of experts (ffn moe); the reward model is a Llama trunk`,
    );
  });
});
