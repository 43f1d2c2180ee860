import { augmentPrompt, chunkText, citedSources, DEFAULT_INSTRUCTIONS } from '@tessera/rag';
import { describe, expect, it } from 'vitest';

const source =
  'Paris is the capital of France.\n\nThe Seine flows through Paris.\n\nLyon is in France.';
const chunks = chunkText('geo.txt', source, { chunkSize: 40 });

describe('augmentPrompt', () => {
  it('numbers the passages under their sources, then asks the question', () => {
    const { prompt, citations, omitted } = augmentPrompt(
      'What flows through Paris?',
      chunks.slice(0, 2),
    );
    expect(prompt).toBe(
      `${DEFAULT_INSTRUCTIONS}\n\nSources:\n[1] geo.txt\nParis is the capital of France.\n\n` +
        '[2] geo.txt\nThe Seine flows through Paris.\n\nQuestion: What flows through Paris?\nAnswer:',
    );
    expect(citations).toEqual([
      { number: 1, id: 'geo.txt#0', sourceId: 'geo.txt', start: 0, end: 31 },
      { number: 2, id: 'geo.txt#1', sourceId: 'geo.txt', start: 33, end: 63 },
    ]);
    expect(source.slice(citations[1]!.start, citations[1]!.end)).toBe(
      'The Seine flows through Paris.',
    );
    expect(omitted).toBe(0);
  });

  it('stops at the first passage that would break the budget, and honours topK', () => {
    const all = augmentPrompt('q?', chunks);
    const budget = all.prompt.length - 1; // one character short of all three
    const cut = augmentPrompt('q?', chunks, { maxTokens: budget });
    expect(cut.citations.map((c) => c.number)).toEqual([1, 2]);
    expect(cut.prompt.length).toBeLessThanOrEqual(budget);
    expect(cut.omitted).toBe(1);
    expect(augmentPrompt('q?', chunks, { topK: 1 }).citations).toHaveLength(1);
    const none = augmentPrompt('q?', chunks, { maxTokens: augmentPrompt('q?', []).prompt.length });
    expect(none.prompt).toContain('Sources:\n(none)');
  });

  it('fails when the question alone is over budget, or the question is empty', () => {
    expect(() => augmentPrompt('q?', chunks, { maxTokens: 10 })).toThrow(
      /alone take \d+ characters, over maxTokens 10/,
    );
    expect(() => augmentPrompt(' ', chunks)).toThrow(/question must be a non-empty string/);
    expect(() => augmentPrompt('q', chunks, { budget: 3 } as never)).toThrow(
      /unknown option "budget"/,
    );
  });

  it('citedSources maps [n] in an answer back to passages', () => {
    const { citations } = augmentPrompt('q?', chunks);
    const used = citedSources('The Seine [2]. Also [2][1] and [9].', citations);
    expect(used.map((c) => c.id)).toEqual(['geo.txt#1', 'geo.txt#0']);
  });
});
