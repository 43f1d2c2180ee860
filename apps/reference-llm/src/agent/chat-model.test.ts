import * as T from '@tessera/tensor-webgpu';
import { trainBpe } from '@tessera/tokenizer';
import { describe, expect, it } from 'vitest';
import { chatFormatOf } from '../serve/chat-format.js';
import { ScriptedLM } from '../test-utils/scripted-lm.js';
import { asChatModel } from './chat-model.js';

const device = await T.createDevice({ backend: 'cpu' });
const tokenizer = trainBpe(['USER: what is two and two? ASSISTANT: four'], {
  vocabSize: 280,
  specialTokens: ['<|endoftext|>'],
});
const messages = [{ role: 'user', content: 'what is two and two?' }];
const prompt = chatFormatOf(tokenizer).encode(messages);
const sampling = { maxNewTokens: 16, temperature: 0, seed: 0 };

describe('asChatModel', () => {
  it("replies in the server's chat format, up to its stop text", async () => {
    const script = [...prompt, ...tokenizer.encode('Answer: four\n\nUSER:\nmore')];
    const chat = asChatModel(
      new ScriptedLM(device, tokenizer.vocabSize, script),
      tokenizer,
      sampling,
      'm',
    );
    expect(await chat.chat(messages)).toBe('Answer: four');
  });

  it('cuts the oldest tokens of a conversation longer than the window, and says so', async () => {
    const cuts: number[] = [];
    const window = prompt.length + 4; // room for 8 new tokens needs 4 more
    const lm = new ScriptedLM(device, tokenizer.vocabSize, [], window);
    await asChatModel(lm, tokenizer, { ...sampling, maxNewTokens: 8 }, 'm', (n) =>
      cuts.push(n),
    ).chat(messages);
    expect(cuts).toEqual([4]);
  });
});
