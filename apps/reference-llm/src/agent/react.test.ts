import type { ChatModel } from '@tessera/eval';
import type { ChatMessage } from '@tessera/tokenizer';
import { describe, expect, it } from 'vitest';
import { formatToolCall, formatToolResult } from '../serve/tools.js';
import { type AgentTool, agentPrompt, REACT_INSTRUCTIONS, runAgent } from './react.js';
import { calculatorTool } from './tools.js';
import { OBSERVATION_CUT } from './window.js';

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

/** A window that counts a conversation's characters as its tokens. */
const chars = (size: number, replyTokens = 10) => ({
  size,
  replyTokens,
  tokens: (messages: readonly ChatMessage[]) => messages.reduce((n, m) => n + m.content.length, 0),
});

/** A tool whose observation is `n` characters long. */
const page: AgentTool = {
  definition: {
    type: 'function',
    function: {
      name: 'page',
      parameters: {
        type: 'object',
        properties: { n: { type: 'integer' } },
        required: ['n'],
      },
    },
  },
  run: ({ n }) => 'p'.repeat(n as number),
};

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
    expect(second[0]!.content).toBe(agentPrompt([calculatorTool.definition]));
    expect(second[0]!.content).toBe(
      [
        REACT_INSTRUCTIONS,
        'calculator(expression: string)',
        '<tool_call>',
        '{"name":"<tool>","arguments":{...}}',
        '</tool_call>',
      ].join('\n'),
    );
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
    await expect(runAgent(model, 'q', [calculatorTool], { maxStep: 3 } as never)).rejects.toThrow(
      'runAgent: unknown option "maxStep" (known options: maxSteps, onStep, window)',
    );
  });

  it('refuses a prompt that does not fit the window before the model writes a word', async () => {
    const model = scripted(['Answer: 4']);
    const system = agentPrompt([calculatorTool.definition]).length;
    const question = 'What is 2 + 2?';
    // A reply of 300 - system - 14 tokens: the prompt needs a window of 300, the base preset's.
    const reply = 300 - system - question.length;
    await expect(
      runAgent(model, question, [calculatorTool], { window: chars(250, reply) }),
    ).rejects.toThrow(
      `the agent's instructions and tools take ${system} tokens and the question ${question.length} more, ${system + question.length} in all: over the ${250 - reply} that the model's 250-token window leaves beside --max-new-tokens ${reply}. The agent needs a window of at least 300 tokens: a model of the base preset (512 tokens) or larger`,
    );
    expect(model.seen).toEqual([]);
  });

  it('fits what the model reads into its window and says what it left out', async () => {
    const calls = [40, 40, 500].map((n) => formatToolCall({ name: 'page', arguments: { n } }));
    const model = scripted([...calls, 'Answer: done']);
    const question = 'q?';
    const headTokens = agentPrompt([page.definition]).length + question.length;
    const window = chars(headTokens + 200 + 10); // 200 tokens beside the question
    const run = await runAgent(model, question, [page], { window });
    expect(run.answer).toBe('done');
    const budget = headTokens + 200;
    for (const seen of model.seen) expect(window.tokens(seen)).toBeLessThanOrEqual(budget);
    const wrap = formatToolResult('').length;
    const [c40, c500] = [calls[0]!.length, calls[2]!.length];
    expect(run.steps.map((s) => s.window)).toEqual([
      { tokens: headTokens, budget, stepsLeftOut: 0, observationsLeftOut: 0, replyLeftOut: false },
      {
        tokens: headTokens + c40 + wrap + 40,
        budget,
        stepsLeftOut: 0,
        observationsLeftOut: 0,
        replyLeftOut: false,
      },
      // Two steps in full or with a note do not fit beside the question; the newest does.
      {
        tokens: headTokens + c40 + wrap + 40,
        budget,
        stepsLeftOut: 1,
        observationsLeftOut: 1,
        replyLeftOut: false,
      },
      // The 500-character observation is cut to what fits beside its call.
      {
        tokens: budget,
        budget,
        stepsLeftOut: 2,
        observationsLeftOut: 2,
        replyLeftOut: false,
        cut: { kept: 200 - c500 - wrap - OBSERVATION_CUT.length, of: 500 },
      },
    ]);
    expect(model.seen[3]!.slice(2)).toEqual([
      { role: 'assistant', content: calls[2] },
      {
        role: 'tool',
        content: formatToolResult(
          `${'p'.repeat(200 - c500 - wrap - OBSERVATION_CUT.length)}${OBSERVATION_CUT}`,
        ),
      },
    ]);
    // The transcript keeps the whole conversation.
    expect(run.messages).toHaveLength(9);
    expect(run.messages[7]).toEqual({ role: 'tool', content: formatToolResult('p'.repeat(500)) });
  });
});
