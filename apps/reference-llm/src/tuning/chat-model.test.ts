import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro } from '../test-utils/tuning.js';
import { readChatModel } from './chat-model.js';
import { sft } from './sft.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('readChatModel', () => {
  it('reads a tuned model with its ChatML format, and refuses a pretrained one, naming its tokenizer', async () => {
    const pretrained = await pretrainedMicro(device);
    const chatModel = tempDir();
    await sft({
      from: pretrained,
      out: chatModel,
      recipe: microRecipe,
      device,
      sink: { write: () => {} },
      steps: 2,
    });
    const { model, chat } = readChatModel(readCheckpoint(chatModel), device);
    expect(chat.endId).toBe(model.vocabSize - 1);
    expect(() => readChatModel(readCheckpoint(pretrained), device)).toThrow(
      /checkpoints\/step-000004\/tokenizer\.json: the tokenizer has no <\|im_start\|> \/ <\|im_end\|> tokens: it is not a chat model's \(run sft first\)/,
    );
  });
});
