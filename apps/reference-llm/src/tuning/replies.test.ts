import type { CausalLM } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { trainBpe } from '@tessera/tokenizer';
import { describe, expect, it } from 'vitest';
import { shakespeare } from '../test-utils/fixtures.js';
import { addChatTokens, ChatFormat } from './chat-format.js';
import { judgeReply, scoreReplies } from './replies.js';

const { cpu } = await testDevices();
const chat = new ChatFormat(
  addChatTokens(
    trainBpe([shakespeare(20_000)], { vocabSize: 300, specialTokens: ['<|endoftext|>'] }),
  ),
);

/**
 * A model that, after any prompt, says `reply` token by token, then <|im_end|> (unless `end` is
 * false): a bigram table from the prompt's last token through the reply's (distinct) tokens.
 */
function parrot(reply: string, end = true): CausalLM {
  const vocab = chat.tokenizer.vocabSize;
  const start = chat.promptIds([]).at(-1)!;
  const path = [start, ...Array.from(chat.tokenizer.encode(reply)), ...(end ? [chat.endId] : [])];
  expect(new Set(path).size).toBe(path.length);
  const table = new Float32Array(vocab * vocab);
  for (let k = 0; k + 1 < path.length; k++) table[path[k]! * vocab + path[k + 1]!] = 10;
  if (!end) table[path.at(-1)! * vocab + path.at(-1)!] = 10; // then repeats itself
  const weights = T.tensor(table, { shape: [vocab, vocab], device: cpu });
  return {
    vocabSize: vocab,
    device: cpu,
    maxSequenceLength: 64,
    forward: (ids) => T.embedding(weights, ids),
  };
}

describe('held-out replies', () => {
  it('judges the final answer and the format against the reference', () => {
    const ref = '12 + 30 = 42\nAnswer: 42';
    expect(judgeReply('12 + 30 = 42\nAnswer: 42', true, ref)).toEqual({
      formatted: true,
      correct: true,
    });
    expect(judgeReply('Answer: 42', false, ref)).toEqual({ formatted: false, correct: true });
    expect(judgeReply('Answer: 41', true, ref)).toEqual({ formatted: true, correct: false });
    expect(judgeReply('42', true, ref)).toEqual({ formatted: false, correct: false });
    expect(judgeReply(' hello ', true, 'hello')).toEqual({ formatted: true, correct: true });
    // An answer line first, after white space, as the runner's trimmed reply reads it.
    expect(judgeReply(' Answer: 42\n', true, ref)).toEqual({ formatted: true, correct: true });
  });

  it('answers each question greedily and scores accuracy and format, per task', async () => {
    const questions = [
      {
        messages: [
          { role: 'user', content: 'What is 1 + 1?' },
          { role: 'assistant', content: 'Answer: 2' },
        ],
        task: 'add',
      },
      {
        messages: [
          { role: 'user', content: 'What is 1 + 2?' },
          { role: 'assistant', content: 'Answer: 3' },
        ],
        task: 'add',
      },
      {
        messages: [
          { role: 'user', content: 'Larger, 1 or 2?' },
          { role: 'assistant', content: 'Answer: 2' },
        ],
        task: 'compare',
      },
    ];
    const r = await scoreReplies(parrot('Answer: 2'), chat, questions, { maxNewTokens: 12 });
    expect(r.answers.map((a) => a.reply)).toEqual(['Answer: 2', 'Answer: 2', 'Answer: 2']);
    expect(r.accuracy).toBeCloseTo(2 / 3, 6);
    expect(r.format).toBe(1);
    expect(r.byTask).toEqual({
      add: { questions: 2, accuracy: 0.5, format: 1 },
      compare: { questions: 1, accuracy: 1, format: 1 },
    });
    const endless = await scoreReplies(parrot('Answer: 2', false), chat, questions, {
      maxNewTokens: 12,
    });
    expect(endless.accuracy).toBe(0); // "Answer: 2222" is not 2
    expect(endless.format).toBe(0); // and it never ends with <|im_end|>
  });
});
