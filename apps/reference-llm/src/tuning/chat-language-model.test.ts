import { truncateAtStop } from '@tessera/eval';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { trainBpe } from '@tessera/tokenizer';
import { DecoderLM } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { shakespeare } from '../test-utils/fixtures.js';
import { addChatTokens, ChatFormat, IM_END } from './chat-format.js';
import { chatLanguageModel } from './chat-language-model.js';
import { scoreReplies } from './replies.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const chat = new ChatFormat(
  addChatTokens(
    trainBpe([shakespeare(20_000)], { vocabSize: 300, specialTokens: ['<|endoftext|>'] }),
  ),
);
const config = {
  vocabSize: chat.tokenizer.vocabSize,
  dModel: 16,
  layers: 1,
  heads: 2,
  maxSeqLen: 32,
  tiedEmbeddings: true,
  seed: 5,
};
const ask = (question: string, answer = 'Answer: 1') => ({
  messages: [
    { role: 'user', content: question },
    { role: 'assistant', content: answer },
  ],
});
const questions = ['What is 1 + 2?', 'Spell cat', 'Reverse the words: a b c', 'Hi'].map((q) =>
  ask(q),
);

describe('chatLanguageModel', () => {
  it('answers ChatML prompts asked together in one batch, with the replies scoreReplies decodes', async () => {
    const model = new DecoderLM(config, device).eval();
    let forwards = 0;
    const forward = model.forward.bind(model);
    model.forward = (...args: Parameters<typeof forward>) => {
      forwards++;
      return forward(...args);
    };
    const lm = chatLanguageModel(model, chat, 'random');
    const options = { maxTokens: 6, stop: [IM_END] };
    const alone = await lm.generate(chat.promptText(questions[0]!.messages.slice(0, 1)), options);
    const stepsAlone = forwards;
    forwards = 0;
    const together = await Promise.all(
      questions.map((q) => lm.generate(chat.promptText(q.messages.slice(0, 1)), options)),
    );
    // Four prompts decode in the steps of about one.
    expect(forwards).toBeLessThan(2 * stepsAlone);
    expect(together[0]).toBe(alone);
    const direct = await scoreReplies(model, chat, questions, { maxNewTokens: 6 });
    expect(together.map((r) => truncateAtStop(r, [IM_END]))).toEqual(
      direct.answers.map((a) => a.reply),
    );
    model.dispose();
  });

  it('keeps a reply to the window the prompt leaves, and gives none where it leaves none', async () => {
    const model = new DecoderLM(config, device).eval();
    const lm = chatLanguageModel(model, chat, 'random');
    const long = chat.promptText(ask('word '.repeat(40)).messages.slice(0, 1));
    expect(chat.encode(long).length).toBeGreaterThanOrEqual(config.maxSeqLen);
    expect(await lm.generate(long, { maxTokens: 6, stop: [IM_END] })).toBe('');
    // A prompt that leaves fewer tokens of the window than the reply may have.
    const messages = ask('x'.repeat(12)).messages.slice(0, 1);
    const ids = chat.promptIds(messages);
    expect(config.maxSeqLen - ids.length).toBeLessThan(20);
    const short = await lm.generate(chat.promptText(messages), { maxTokens: 20, stop: [IM_END] });
    const direct = await scoreReplies(model, chat, [ask('x'.repeat(12))], { maxNewTokens: 20 });
    expect(chat.encode(short).length).toBeLessThanOrEqual(config.maxSeqLen - ids.length);
    expect(truncateAtStop(short, [IM_END])).toBe(direct.answers[0]!.reply);
    model.dispose();
  });
});
