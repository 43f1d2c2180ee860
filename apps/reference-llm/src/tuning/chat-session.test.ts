import { generate } from '@tessera/sampler';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro } from '../test-utils/tuning.js';
import { readChatModel } from './chat-model.js';
import { ChatSession } from './chat-session.js';
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
const { model, chat } = readChatModel(readCheckpoint(chatModel), device);
model.eval();

describe('ChatSession', () => {
  it('streams the greedy reply to the ChatML prompt of the conversation, and keeps the turns', async () => {
    const session = new ChatSession(model, chat, { temperature: 0, maxNewTokens: 8 }, 'Be brief.');
    const pieces: string[] = [];
    const { reply } = await session.reply('What is 1 + 2?', (p) => pieces.push(p));
    expect(pieces.join('')).toBe(reply);
    // The same as greedy generation from the conversation's ChatML prompt.
    const prompt = chat.promptIds([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is 1 + 2?' },
    ]);
    const ids: number[] = [];
    for await (const id of generate(model, prompt, {
      temperature: 0,
      maxNewTokens: 8,
      stopTokenIds: [chat.endId],
    }))
      ids.push(id);
    expect(reply).toBe(chat.replyText(ids));
    expect(session.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    session.reset();
    expect(session.messages).toEqual([{ role: 'system', content: 'Be brief.' }]);
  });

  it('drops the oldest turns when the conversation outgrows the window, keeping the system message', async () => {
    const session = new ChatSession(model, chat, { temperature: 0, maxNewTokens: 4 }, 'Hi.');
    let dropped = 0;
    for (let i = 0; i < 6; i++)
      dropped += (await session.reply(`Reverse the words: king queen ${i}`, () => {})).dropped;
    expect(dropped).toBeGreaterThan(0);
    expect(session.messages[0]).toEqual({ role: 'system', content: 'Hi.' });
    expect(chat.promptIds(session.messages.slice(0, -1)).length).toBeLessThanOrEqual(
      model.maxSequenceLength,
    );
  });
});
