import { augmentPrompt } from '@tessera/rag';
import { describe, expect, it } from 'vitest';
import { answerPrompt } from './answer-prompt.js';

/** One token per run of non-space characters: counts anyone can check by eye. */
const words = { encode: (text: string) => (text.match(/\S+/g) ?? []).map(() => 1) };
const hits = [
  { id: 'a', text: 'one two three four five' },
  { id: 'b', text: 'six seven eight nine ten' },
  { id: 'c', text: 'eleven twelve thirteen fourteen fifteen' },
];
const question = 'who counts?';
const options = { tokenizer: words, instructions: 'Answer from the sources.' };
/** Tokens of the prompt with the first n passages. */
const tokens = (n: number) =>
  words.encode(augmentPrompt(question, hits.slice(0, n), options).prompt).length;

describe('answerPrompt', () => {
  it('keeps every passage when the window holds them and the answer', () => {
    const p = answerPrompt(question, hits, {
      ...options,
      window: tokens(3) + 16,
      maxNewTokens: 16,
    });
    expect(p.citations.map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(p).toMatchObject({ budget: tokens(3), tokens: tokens(3), omitted: 0 });
  });

  it('drops the lowest-ranked passages until the prompt and the answer fit the window', () => {
    const window = tokens(3) - 1 + 16;
    const p = answerPrompt(question, hits, { ...options, window, maxNewTokens: 16 });
    expect(p.citations.map((c) => c.id)).toEqual(['a', 'b']);
    expect(p.tokens).toBe(tokens(2));
    expect(p.tokens + 16).toBeLessThanOrEqual(window);
    expect(p.omitted).toBe(1);
    const none = answerPrompt(question, hits, {
      ...options,
      window: tokens(1) - 1,
      maxNewTokens: 1,
    });
    expect(none.citations).toEqual([]);
    expect(none.prompt).toContain('(none)');
  });

  it('says how many tokens the instructions and question take when they do not fit', () => {
    const bare = tokens(0);
    expect(() =>
      answerPrompt(question, hits, { ...options, window: bare + 15, maxNewTokens: 16 }),
    ).toThrow(
      `the instructions and the question take ${bare} tokens, over the ${bare - 1} that the model's ${bare + 15}-token window leaves beside --max-new-tokens 16: ask a shorter question or lower --max-new-tokens`,
    );
    expect(() =>
      answerPrompt(question, hits, { ...options, window: 64, maxNewTokens: 64 }),
    ).toThrow("--max-new-tokens 64 leaves no room for a prompt in the model's 64-token window");
  });
});
