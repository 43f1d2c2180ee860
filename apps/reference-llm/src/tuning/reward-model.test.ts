import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro } from '../test-utils/tuning.js';
import { readChatModel } from './chat-model.js';
import { RewardModel, readRewardModel, rewardModelConfig } from './reward-model.js';
import { sft } from './sft.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const chatModel = tempDir();
await sft({
  from: await pretrainedMicro(device),
  out: chatModel,
  recipe: microRecipe,
  device,
  sink: { write: () => {} },
  steps: 4,
});

describe('RewardModel', () => {
  it('a fresh reward model is the language model’s trunk and a new scalar head', async () => {
    const { model: lm } = readChatModel(readCheckpoint(chatModel), device);
    const rm = RewardModel.fromLanguageModel(lm, 3);
    expect(Object.keys(rm.stateDict())).toEqual([
      ...Object.keys(lm.model.stateDict()).map((k) => `model.${k}`),
      'score.weight',
    ]);
    const ids = T.tensor([[1, 2, 3, 4]], { dtype: 'i32', device });
    const want = await T.reshape(
      T.matmul(lm.hidden(ids), T.transpose(rm.score.weight)),
      [1, 4],
    ).data();
    expect(Array.from(await rm.forward(ids).data())).toEqual(Array.from(want));
  });

  it('its config is Hugging Face’s LlamaForSequenceClassification with one label', () => {
    const { model: lm } = readChatModel(readCheckpoint(chatModel), device);
    expect(rewardModelConfig(lm.config, 7)).toMatchObject({
      architectures: ['LlamaForSequenceClassification'],
      model_type: 'llama',
      num_labels: 1,
      pad_token_id: 7,
      vocab_size: lm.vocabSize,
    });
  });

  it('a checkpoint of another model is refused with the tensors that do not match', () => {
    expect(() => readRewardModel(readCheckpoint(chatModel), device)).toThrow(
      /model\.safetensors: is not a reward model of this shape \(.*missing keys: score\.weight/,
    );
  });
});
