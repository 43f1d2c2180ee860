import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { applyChatTemplate, trainBpe } from '@tessera/tokenizer';
import { DecoderLM } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { shakespeare } from '../test-utils/fixtures.js';
import { addChatTokens, ChatFormat, hasChatTokens, resizeVocabulary } from './chat-format.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const base = trainBpe([shakespeare(20_000)], { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
const tokenizer = addChatTokens(base);
const chat = new ChatFormat(tokenizer);
const conversation = [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: 'What is 12 + 30?' },
  { role: 'assistant', content: '12 + 30 = 42\nAnswer: 42' },
  { role: 'user', content: 'And <|im_end|> plus 1?' },
  { role: 'assistant', content: 'Answer: 43' },
];

describe('ChatFormat', () => {
  it('appends <|im_start|> and <|im_end|> after the vocabulary, keeping every other token', () => {
    expect(hasChatTokens(base)).toBe(false);
    expect(tokenizer.vocabSize).toBe(base.vocabSize + 2);
    expect(tokenizer.specialId('<|im_start|>')).toBe(base.vocabSize);
    expect(chat.endId).toBe(base.vocabSize + 1);
    const text = shakespeare(2000);
    expect(tokenizer.encode(text)).toEqual(base.encode(text));
    expect(addChatTokens(tokenizer)).toBe(tokenizer);
    expect(() => new ChatFormat(base)).toThrow(
      /no <\|im_start\|> \/ <\|im_end\|> tokens.*run sft first/,
    );
  });

  it('a conversation decodes to its ChatML text; the mask covers each reply and its <|im_end|>', () => {
    const { ids, completionMask } = chat.encodeConversation(conversation);
    const chatml = applyChatTemplate(conversation, 'chatml');
    expect(tokenizer.decode(ids)).toBe(chatml.slice(0, -1)); // without the final line break
    const learned = ids.filter((_, i) => completionMask![i] === 1);
    expect(tokenizer.decode(learned)).toBe(
      '12 + 30 = 42\nAnswer: 42<|im_end|>Answer: 43<|im_end|>',
    );
    expect(ids.at(-1)).toBe(chat.endId);
  });

  it('a prompt is the tokens a conversation has before the reply, so generation continues training text', () => {
    const single = conversation.slice(0, 3);
    const prompt = chat.promptIds(single.slice(0, 2));
    const { ids, completionMask } = chat.encodeConversation(single);
    expect(ids.slice(0, prompt.length)).toEqual(prompt);
    expect(Array.from(completionMask!).indexOf(1)).toBe(prompt.length);
    expect(chat.replyText([...ids.slice(prompt.length), 5, 6])).toBe('12 + 30 = 42\nAnswer: 42');
  });

  it('a prompt as text encodes to the prompt tokens', () => {
    for (const n of [1, 2, 4]) {
      const messages = conversation.slice(0, n);
      const text = chat.promptText(messages);
      expect(text).toBe(applyChatTemplate(messages, 'chatml', { addGenerationPrompt: true }));
      expect(chat.encode(text)).toEqual(chat.promptIds(messages));
    }
  });
});

describe('resizeVocabulary', () => {
  it('keeps the old logits and gives each new token the mean embedding', async () => {
    const config = {
      vocabSize: 300,
      dModel: 16,
      layers: 1,
      heads: 2,
      maxSeqLen: 16,
      tiedEmbeddings: true,
      seed: 3,
    };
    const model = new DecoderLM(config, device);
    const ids = T.tensor([[1, 5, 9, 200]], { dtype: 'i32', device });
    const before = await model.forward(ids).data();
    const embedding = await model.model.embed_tokens!.weight.data();
    const grown = resizeVocabulary(model, 302);
    expect(grown.vocabSize).toBe(302);
    const after = await grown.forward(ids).data();
    const old = Array.from(after).filter((_, i) => i % 302 < 300);
    expect(maxRelError(old, before)).toBeLessThan(1e-5);
    const rows = await grown.model.embed_tokens!.weight.data();
    for (let d = 0; d < 16; d++) {
      let mean = 0;
      for (let v = 0; v < 300; v++) mean += embedding[v * 16 + d]! / 300;
      expect(rows[300 * 16 + d]).toBeCloseTo(mean, 5);
      expect(rows[301 * 16 + d]).toBeCloseTo(mean, 5);
    }
    expect(() => resizeVocabulary(grown, 10)).toThrow(/10 tokens, fewer than the model's 302/);
  });
});
