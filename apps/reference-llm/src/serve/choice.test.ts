import { trainBpe } from '@tessera/tokenizer';
import { afterEach, describe, expect, it } from 'vitest';
import { shakespeare } from '../test-utils/fixtures.js';
import { scriptedServed } from '../test-utils/scripted-lm.js';
import { type ChoiceResult, type ChoiceSpec, startChoice } from './choice.js';
import type { ServedModel } from './models.js';
import { type ToolDefinition, Toolset } from './tools.js';

const tokenizer = trainBpe([shakespeare(20_000)], {
  vocabSize: 300,
  specialTokens: ['<|endoftext|>'],
});
const prompt = tokenizer.encode('USER:\nWhat now?\n\nASSISTANT:\n');

const weather: ToolDefinition = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', minLength: 1, maxLength: 20 } },
      required: ['city'],
    },
  },
};
const time: ToolDefinition = {
  type: 'function',
  function: {
    name: 'get_time',
    parameters: {
      type: 'object',
      properties: { zone: { enum: ['UTC', 'CET'] } },
      required: ['zone'],
    },
  },
};
const tools = new Toolset([weather, time]);

let served: ServedModel | undefined;
afterEach(() => served?.engine.close());

/** Runs one choice of a model scripted to reply `reply`; its result and the streamed text. */
async function run(reply: string, spec: Partial<ChoiceSpec> = {}) {
  served = await scriptedServed(tokenizer, prompt, reply);
  const deltas: string[] = [];
  const result = await new Promise<ChoiceResult>((resolve) =>
    startChoice(
      served!,
      { prompt, maxTokens: 100, sampling: { temperature: 0, seed: 0 }, stop: [], ...spec },
      { text: (d) => deltas.push(d), end: resolve },
    ),
  );
  return { result, deltas };
}

describe('a choice', () => {
  it('cuts a stop sequence that spans tokens and never streams any of it', async () => {
    const { result, deltas } = await run('To be, or not to be, that is', { stop: [' not to'] });
    expect(result).toMatchObject({ text: 'To be, or', finishReason: 'stop', ended: 'stop' });
    expect(deltas.join('')).toBe('To be, or');
    expect(deltas.some((d) => d.includes('n'))).toBe(false);
  });

  it('ends at a stop token, and at max tokens with finish reason length', async () => {
    const stopped = await run('Well met.<|endoftext|>More');
    expect(stopped.result).toMatchObject({ text: 'Well met.', finishReason: 'stop' });
    const long = await run('a long reply that goes on and on', { maxTokens: 5 });
    expect(long.result).toMatchObject({ finishReason: 'length', completionTokens: 5 });
    expect(long.deltas.join('')).toBe(long.result.text);
  });

  it('auto: a call the model writes is parsed into tool_calls, and its tag is never streamed', async () => {
    const { result, deltas } = await run(
      'Let me look.<tool_call>\n{"name":"get_weather","arguments":{"city":"Paris"}}\n</tool_call>',
      { tools: { set: tools, choice: 'auto' } },
    );
    expect(result.finishReason).toBe('tool_calls');
    expect(result.text).toBe('Let me look.');
    expect(result.toolCalls).toEqual([
      {
        id: expect.stringMatching(/^call_[0-9A-Za-z]{24}$/),
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
    ]);
    expect(deltas.join('')).toBe('Let me look.');
  });

  it('auto: once the model opens a call, the grammar keeps its arguments valid', async () => {
    // The model would write an argument the schema does not have; the grammar masks it.
    const { result } = await run(
      '<tool_call>\n{"name":"get_weather","arguments":{"town":"Paris"}}\n</tool_call>',
      { tools: { set: tools, choice: 'auto' } },
    );
    expect(result.finishReason).toBe('tool_calls');
    const call = result.toolCalls[0]!.function;
    expect(call.name).toBe('get_weather');
    expect(tools.check(call.name, JSON.parse(call.arguments))).toBeUndefined();
  });

  it('auto: a call opened too late for the grammar is left free; cut short, it is text, streamed whole', async () => {
    const reply = 'Hm.<tool_call>\n{"name":"get_time","arguments":{"zone":"UTC"}}\n</tool_call>';
    const maxTokens = tokenizer.encode('Hm.<tool_call>').length + 10;
    const { result, deltas } = await run(reply, {
      maxTokens,
      tools: { set: tools, choice: 'auto' },
    });
    expect(result).toMatchObject({ finishReason: 'length', toolCalls: [] });
    expect(result.text).toMatch(/^Hm\.<tool_call>\n\{"name"/);
    expect(deltas.join('')).toBe(result.text);
  });

  it('required: a model that would only chat still makes a valid call; a named choice calls that tool', async () => {
    const required = await run('I do not know any tools.', {
      tools: { set: tools, choice: 'required' },
    });
    expect(required.result.finishReason).toBe('tool_calls');
    expect(required.deltas.join('')).toBe('');
    const call = required.result.toolCalls[0]!.function;
    expect(tools.check(call.name, JSON.parse(call.arguments))).toBeUndefined();
    await served!.engine.close();
    const named = await run('I do not know any tools.', {
      tools: { set: tools, choice: { type: 'function', function: { name: 'get_time' } } },
    });
    const timeCall = named.result.toolCalls[0]!.function;
    expect(timeCall.name).toBe('get_time');
    expect(JSON.parse(timeCall.arguments)).toEqual({ zone: expect.stringMatching(/^(UTC|CET)$/) });
  });

  it('refuses a required call that cannot fit in max_tokens, naming max_tokens', async () => {
    await expect(
      run('x', { maxTokens: 10, tools: { set: tools, choice: 'required' } }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'max_tokens',
      message: expect.stringMatching(/max_tokens 10 is too small for the tool call/),
    });
  });
});
