import { padSequences, sftEvalLoss } from '@tessera/rlhf';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro } from '../test-utils/tuning.js';
import { arithmeticData } from './arithmetic.js';
import { readChatModel } from './chat-model.js';
import { heldoutLoss } from './heldout-loss.js';
import { sft } from './sft.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('heldoutLoss', () => {
  it('is the token mean of the replies’ NLL, whatever the batch size', async () => {
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
    const rows = heldout.map((e) => chat.encodeConversation(e.messages));
    const whole = await sftEvalLoss(model, padSequences(rows, { length: 64 }));
    expect(await heldoutLoss(model, chat, heldout, 5)).toBeCloseTo(whole.loss, 5);
    // Batches of 2, 2, 1 of different token counts: a mean of batch means would differ.
    expect(await heldoutLoss(model, chat, heldout, 2)).toBeCloseTo(whole.loss, 5);
    model.dispose();
  });
});
