import type { ChatModel } from '@tessera/eval';
import type { ChatMessage } from '@tessera/tokenizer';
import { describe, expect, it } from 'vitest';
import { formatToolCall, formatToolResult } from '../serve/tools.js';
import { REACT_INSTRUCTIONS, runAgent } from './react.js';
import { calculatorTool } from './tools.js';

/** A chat model that replies from a script and records what it was shown. */
function scripted(replies: string[]): ChatModel & { seen: ChatMessage[][] } {
  const seen: ChatMessage[][] = [];
  return {
    id: 'scripted',
    seen,
    chat: (messages) => {
      seen.push(structuredClone(messages));
      return replies[seen.length - 1] ?? 'Answer: (script ended)';
    },
  };
}

const call = (expression: string) =>
  formatToolCall({ name: 'calculator', arguments: { expression } });

describe('runAgent', () => {
  it('loops thought → tool call → observation until an answer', async () => {
    const model = scripted([
      `I need the product.\n${call('12 * 7')}`,
      `Now add 16.\n${call('84 + 16')}`,
      'Answer: 100',
    ]);
    const printed: string[] = [];
    const run = await runAgent(model, 'What is 12 * 7 + 16?', [calculatorTool], {
      onStep: (s, i) => printed.push(`${i}: ${s.thought}`),
    });
    expect(run.answer).toBe('100');
    expect(run.stoppedBy).toBe('answer');
    expect(run.steps.map((s) => s.calls.map((c) => c.observation))).toEqual([['84'], ['100'], []]);
    expect(run.steps[0]!.calls[0]!.arguments).toEqual({ expression: '12 * 7' });
    expect(printed).toEqual(['0: I need the product.', '1: Now add 16.', '2: Answer: 100']);
    // The model saw the server's tool prompt, then its own call and the result as a tool message.
    const second = model.seen[1]!;
    expect(second[0]!.role).toBe('system');
    expect(second[0]!.content).toContain(REACT_INSTRUCTIONS);
    expect(second[0]!.content).toContain('"name":"calculator"');
    expect(second.slice(1)).toEqual([
      { role: 'user', content: 'What is 12 * 7 + 16?' },
      { role: 'assistant', content: `I need the product.\n${call('12 * 7')}` },
      { role: 'tool', content: formatToolResult('84') },
    ]);
    expect(run.messages).toHaveLength(7);
  });

  it('returns a bad call or a failing tool to the model as an observation', async () => {
    const model = scripted([
      formatToolCall({ name: 'calculator', arguments: { expr: '1' } }),
      call('1 / 0'),
      formatToolCall({ name: 'weather', arguments: {} }),
      'It is 2.',
    ]);
    const run = await runAgent(model, 'q', [calculatorTool]);
    expect(run.answer).toBe('It is 2.');
    expect(model.seen[1]!.at(-1)!.content).toMatch(
      /^<tool_response>\nerror: arguments of "calculator" do not fit its parameters/,
    );
    expect(run.steps[1]!.calls[0]!.observation).toBe('error: calculator: "1 / 0" is Infinity');
    expect(model.seen[3]!.at(-1)!.content).toContain(
      'error: the model called "weather", which is not one of the tools',
    );
  });

  it('stops at the step limit without an answer', async () => {
    const model = scripted(Array.from({ length: 10 }, () => call('1 + 1')));
    const run = await runAgent(model, 'q', [calculatorTool], { maxSteps: 3 });
    expect(run).toMatchObject({ answer: null, stoppedBy: 'step limit' });
    expect(run.steps).toHaveLength(3);
    await expect(runAgent(model, 'q', [calculatorTool], { maxSteps: 0 })).rejects.toThrow(
      'runAgent: maxSteps must be a positive integer, got 0',
    );
  });
});
