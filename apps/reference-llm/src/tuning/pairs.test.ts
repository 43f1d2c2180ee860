import { trainBpe } from '@tessera/tokenizer';
import { describe, expect, it } from 'vitest';
import { shakespeare } from '../test-utils/fixtures.js';
import { addChatTokens, ChatFormat } from './chat-format.js';
import { encodePair, longPairs, pairBatch } from './pairs.js';

const chat = new ChatFormat(
  addChatTokens(
    trainBpe([shakespeare(20_000)], { vocabSize: 300, specialTokens: ['<|endoftext|>'] }),
  ),
);
const pair = {
  prompt: [{ role: 'user', content: 'What is 1 + 2?' }],
  chosen: [{ role: 'assistant', content: 'Answer: 3' }],
  rejected: [{ role: 'assistant', content: '3' }],
};

describe('preference pairs as tokens', () => {
  it('each side is the prompt with its reply; the reply is the completion', () => {
    const p = encodePair(chat, pair);
    const prompt = chat.promptIds(pair.prompt);
    const ids = (e: typeof p.chosen) => Array.from(e.ids);
    expect(ids(p.chosen).slice(0, prompt.length)).toEqual(prompt);
    expect(ids(p.rejected).slice(0, prompt.length)).toEqual(prompt);
    const reply = (e: typeof p.chosen) =>
      chat.tokenizer.decode(ids(e).filter((_, i) => e.completionMask![i] === 1));
    expect([reply(p.chosen), reply(p.rejected)]).toEqual(['Answer: 3<|im_end|>', '3<|im_end|>']);
  });

  it('a batch holds the chosen rows, then the rejected ones, padded to the longest (within the window)', () => {
    const p = encodePair(chat, pair);
    const batch = pairBatch([p, p], 64);
    expect(batch.rows).toBe(4);
    expect(batch.length).toBe(Math.ceil(p.chosen.ids.length / 8) * 8);
    expect(Array.from(batch.ids.subarray(0, p.chosen.ids.length))).toEqual(
      Array.from(p.chosen.ids),
    );
    expect(
      Array.from(batch.ids.subarray(2 * batch.length, 2 * batch.length + p.rejected.ids.length)),
    ).toEqual(Array.from(p.rejected.ids));
    expect(longPairs([p], 64)).toBe(0);
    expect(longPairs([p], p.chosen.ids.length - 1)).toBe(1);
  });
});
