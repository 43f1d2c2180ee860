import type { LanguageModel } from '@tessera/eval';
import { trainBpe } from '@tessera/tokenizer';
import { describe, expect, it } from 'vitest';
import { shakespeare } from '../test-utils/fixtures.js';
import { addChatTokens, ChatFormat, IM_END } from './chat-format.js';
import { chatTask, runChatTask } from './chat-task.js';
import { judgeReply } from './replies.js';

const chat = new ChatFormat(
  addChatTokens(
    trainBpe([shakespeare(20_000)], { vocabSize: 300, specialTokens: ['<|endoftext|>'] }),
  ),
);
const example = (question: string, reference: string, task = 'add') => ({
  messages: [
    { role: 'system', content: 'Answer briefly.' },
    { role: 'user', content: question },
    { role: 'assistant', content: reference },
  ],
  task,
});
const examples = [
  example('What is 1 + 1?', '1 + 1 = 2\nAnswer: 2'),
  example('What is 1 + 2?', 'Answer: 3'),
  example('What is 2 + 2?', 'Answer: 4'),
  example('Say hello', 'hello', 'line'),
  example('Say bye', 'bye', 'line'),
];
/** Each question's reply as a chat model returns it: `<|im_end|>` where it ended. */
const responses: Record<string, string> = {
  'What is 1 + 1?': 'Answer: 2<|im_end|>', // right, well formatted
  'What is 1 + 2?': ' Answer: 3', // right, never ended
  'What is 2 + 2?': 'Answer: 5<|im_end|>', // wrong
  'Say hello': 'hello<|im_end|>',
  'Say bye': 'good bye<|im_end|>',
};

/** Replies from the table; `askedBeforeReplying` counts the questions asked before the first reply. */
function scripted(): LanguageModel & { prompts: string[]; askedBeforeReplying?: number } {
  const lm: LanguageModel & { prompts: string[]; askedBeforeReplying?: number } = {
    id: 'scripted',
    prompts: [],
    logLikelihood: () => 0,
    generate(prompt) {
      lm.prompts.push(prompt);
      const asked = examples.find((e) => prompt === chat.promptText(e.messages.slice(0, -1)))!;
      return new Promise((resolve) =>
        setTimeout(() => {
          lm.askedBeforeReplying ??= lm.prompts.length;
          resolve(responses[asked.messages[1]!.content]!);
        }, 0),
      );
    },
  };
  return lm;
}

describe('chatTask', () => {
  it('asks each question in ChatML, up to where the reply begins, and stops at <|im_end|>', () => {
    const task = chatTask('held-out', examples, chat, 12);
    expect(task.docs[0]).toEqual({
      prompt:
        '<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\nWhat is 1 + 1?<|im_end|>\n<|im_start|>assistant\n',
      targets: ['1 + 1 = 2\nAnswer: 2'],
    });
    expect([task.stop, task.maxTokens]).toEqual([[IM_END], 12]);
    expect(task.metric!('Answer: 2', ['Answer: 2'])).toBe(1);
    expect(task.metric!('Answer: 2', ['Answer: 3'])).toBe(0);
  });
});

describe('runChatTask', () => {
  it("scores accuracy through the runner and format from the runner's replies, as judgeReply scores each", async () => {
    const lm = scripted();
    const { result, answers } = await runChatTask(lm, chat, 'held-out', examples, 12);
    // Every question is asked at once (so that a chat model decodes them in one batch).
    expect(lm.askedBeforeReplying).toBe(examples.length);
    const judged = examples.map((e) => {
      const response = responses[e.messages[1]!.content]!;
      const reply = response.split(IM_END)[0]!;
      return judgeReply(reply, response.endsWith(IM_END), e.messages[2]!.content);
    });
    const share = (key: 'correct' | 'formatted') =>
      judged.filter((j) => j[key]).length / judged.length;
    expect([share('correct'), share('formatted')]).toEqual([3 / 5, 4 / 5]);
    expect(result).toEqual({
      task: 'held-out',
      n: 5,
      numFewshot: 0,
      metrics: { accuracy: share('correct'), format: share('formatted') },
    });
    expect(answers.map((a) => [a.task, a.question, a.reply, a.correct, a.formatted])).toEqual([
      ['add', 'What is 1 + 1?', 'Answer: 2', true, true],
      ['add', 'What is 1 + 2?', ' Answer: 3', true, false],
      ['add', 'What is 2 + 2?', 'Answer: 5', false, true],
      ['line', 'Say hello', 'hello', true, true],
      ['line', 'Say bye', 'good bye', false, true],
    ]);
  });
});
