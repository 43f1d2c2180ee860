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

  it('counts a conversation in its format and refuses one that does not fit, never cutting it', async () => {
    const window = prompt.length + 4; // 8 new tokens leave room for prompt.length - 4
    const lm = new ScriptedLM(device, tokenizer.vocabSize, [], window);
    const chat = asChatModel(lm, tokenizer, { ...sampling, maxNewTokens: 8 }, 'm');
    expect(chat.window.size).toBe(window);
    expect(chat.window.replyTokens).toBe(8);
    expect(chat.window.tokens(messages)).toBe(prompt.length);
    await expect(chat.chat(messages)).rejects.toThrow(
      new RangeError(
        `asChatModel: the conversation takes ${prompt.length} tokens, over the ${prompt.length - 4} that the model's ${window}-token window leaves beside --max-new-tokens 8`,
      ),
    );
    expect(() => asChatModel(lm, tokenizer, { ...sampling, maxNewTokens: window }, 'm')).toThrow(
      `--max-new-tokens ${window} leaves no room for a prompt in the model's ${window}-token window`,
    );
  });
});
