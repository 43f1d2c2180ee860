import { tokenLogprobs } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../load.js';
import { listen, microRun, servedMicro } from '../test-utils/serve.js';
import { conversationOf } from './chat-route.js';
import { type ToolDefinition, Toolset } from './tools.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const served = await servedMicro(device);
const server = await listen([served]);
const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
afterAll(() => server.close());

const hello = [{ role: 'user' as const, content: 'Hello there' }];

const weather: ToolDefinition = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', minLength: 1, maxLength: 12 },
        unit: { enum: ['celsius', 'fahrenheit'] },
      },
      required: ['city', 'unit'],
    },
  },
};

describe('POST /v1/chat/completions', () => {
  it('a chat on a model without chat tokens is its conversation as a play, continued like a completion', async () => {
    const chat = await client.chat.completions.create({
      model: 'micro',
      messages: hello,
      max_tokens: 12,
      seed: 3,
    });
    expect(chat).toMatchObject({
      object: 'chat.completion',
      model: 'micro',
      choices: [{ index: 0, message: { role: 'assistant' }, logprobs: null }],
    });
    const text = 'USER:\nHello there\n\nASSISTANT:\n';
    const completion = await client.completions.create({
      model: 'micro',
      prompt: text,
      max_tokens: 12,
      seed: 3,
      stop: ['\n\n'],
    });
    expect(chat.choices[0]!.message.content).toBe(completion.choices[0]!.text);
    expect(chat.choices[0]!.finish_reason).toBe(completion.choices[0]!.finish_reason);
    const promptTokens = served.tokenizer.encode(text).length;
    expect(chat.usage).toEqual({
      prompt_tokens: promptTokens,
      completion_tokens: completion.usage!.completion_tokens,
      total_tokens: promptTokens + completion.usage!.completion_tokens,
    });
  });

  it('streams the same text as server-sent events, with usage last when asked', async () => {
    const body = { model: 'micro', messages: hello, max_tokens: 16, seed: 9, temperature: 1.3 };
    const whole = await client.chat.completions.create(body);
    const stream = await client.chat.completions.create({
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe(whole.choices[0]!.finish_reason);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: whole.usage });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('n choices: choice i is what seed + i gives alone', async () => {
    const body = { model: 'micro', messages: hello, max_tokens: 10, temperature: 1.1 };
    const three = await client.chat.completions.create({ ...body, n: 3, seed: 40 });
    expect(three.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    for (const i of [0, 1, 2]) {
      const one = await client.chat.completions.create({ ...body, seed: 40 + i });
      expect(one.choices[0]!.message.content).toBe(three.choices[i]!.message.content);
    }
    expect(new Set(three.choices.map((c) => c.message.content)).size).toBeGreaterThan(1);
  });

  it("logprobs are the model's own: equal to tokenLogprobs over the prompt and the reply", async () => {
    const r = await client.chat.completions.create({
      model: 'micro',
      messages: hello,
      max_tokens: 6,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
    });
    const content = r.choices[0]!.logprobs!.content!;
    expect(content).toHaveLength(r.usage!.completion_tokens);
    const prompt = served.tokenizer.encode('USER:\nHello there\n\nASSISTANT:\n');
    const reply = content.map((c) =>
      served.tokenizer.encode(Buffer.from(c.bytes!).toString('latin1')),
    );
    expect(reply.every((ids) => ids.length >= 1)).toBe(true);
    const { model } = loadCheckpoint(await microRun(device), device);
    const replyIds = content.map((c) => bytesToId(c.bytes!));
    const ids = [...prompt, ...replyIds];
    const lp = T.tidy(() =>
      tokenLogprobs(model, T.tensor(Int32Array.from(ids), { shape: [1, ids.length], device })),
    );
    const want = Array.from(await lp.data()).slice(prompt.length);
    content.forEach((c, i) => {
      expect(c.logprob).toBeCloseTo(want[i]!, 4);
      expect(c.top_logprobs).toHaveLength(3);
      expect(c.top_logprobs[0]!.token).toBe(c.token); // greedy: the chosen token is the top one
      expect(c.top_logprobs[0]!.logprob).toBeGreaterThanOrEqual(c.top_logprobs[1]!.logprob);
    });
  });

  it('required and named tool_choice give arguments that fit the schema; results are fed back', async () => {
    const validate = new Ajv().compile(weather.function.parameters!);
    for (const tool_choice of [
      'required',
      { type: 'function', function: { name: 'get_weather' } },
    ] as const) {
      const r = await client.chat.completions.create({
        model: 'micro',
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools: [weather],
        tool_choice,
        seed: 5,
      });
      const choice = r.choices[0]!;
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.content).toBeNull();
      const call = choice.message.tool_calls![0]!;
      expect(call.type === 'function' && call.function.name).toBe('get_weather');
      const args = JSON.parse(call.type === 'function' ? call.function.arguments : '');
      expect(validate(args)).toBe(true);
      const next = await client.chat.completions.create({
        model: 'micro',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: '{"temperature": 21}' },
        ],
        tools: [weather],
        max_tokens: 4,
      });
      expect(next.usage!.prompt_tokens).toBeGreaterThan(r.usage!.prompt_tokens);
    }
  });

  it('a bounded integer argument always fits its bounds; a pattern is refused with a 400, not a 500', async () => {
    const dice: ToolDefinition = {
      type: 'function',
      function: {
        name: 'roll',
        parameters: {
          type: 'object',
          properties: { sides: { type: 'integer', minimum: 1, maximum: 7 } },
          required: ['sides'],
        },
      },
    };
    for (const seed of [1, 2, 3]) {
      const r = await client.chat.completions.create({
        model: 'micro',
        messages: [{ role: 'user', content: 'w' }],
        tools: [dice],
        tool_choice: 'required',
        max_tokens: 60,
        seed,
      });
      const call = r.choices[0]!.message.tool_calls![0]!;
      const { sides } = JSON.parse(call.type === 'function' ? call.function.arguments : '{}');
      expect(Number.isInteger(sides) && sides >= 1 && sides <= 7).toBe(true);
    }
    const zip: ToolDefinition = {
      type: 'function',
      function: {
        name: 'zip',
        parameters: {
          type: 'object',
          properties: { code: { type: 'string', pattern: '^[0-9]{5}$' } },
        },
      },
    };
    await expect(
      client.chat.completions.create({
        model: 'micro',
        messages: hello,
        tools: [zip],
        tool_choice: 'required',
      }),
    ).rejects.toMatchObject({ status: 400, param: 'tools' });
  });

  it('streams a required tool call as a tool_calls delta', async () => {
    const stream = await client.chat.completions.create({
      model: 'micro',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weather],
      tool_choice: 'required',
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather' },
    });
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('refuses contradictory tool settings, naming the parameter', async () => {
    const bad = (body: object) =>
      client.chat.completions.create({ model: 'micro', messages: hello, ...body } as never);
    await expect(bad({ tool_choice: 'required' })).rejects.toMatchObject({
      status: 400,
      param: 'tool_choice',
    });
    await expect(
      bad({ tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } }),
    ).rejects.toMatchObject({ status: 400, param: 'tool_choice' });
    await expect(
      bad({
        tools: [
          {
            type: 'function',
            function: {
              name: 'x',
              parameters: { type: 'object', properties: { a: { $ref: '#/b' } } },
            },
          },
        ],
        tool_choice: 'required',
      }),
    ).rejects.toMatchObject({ status: 400, param: 'tools' });
    await expect(bad({ top_logprobs: 2 })).rejects.toMatchObject({
      status: 400,
      param: 'top_logprobs',
    });
  });
});

describe('conversationOf', () => {
  it('joins text parts, shows the tools in the system message and writes calls and results as the model reads them', () => {
    const set = new Toolset([weather]);
    const out = conversationOf(
      [
        { role: 'developer', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather ' },
            { type: 'text', text: 'in Paris?' },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
      set,
    );
    expect(out.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(out[0]!.content).toMatch(/^Be brief\.\n\nYou can call functions/);
    expect(out[0]!.content).toContain(JSON.stringify(weather));
    expect(out[1]!.content).toBe('Weather in Paris?');
    expect(out[2]!.content).toBe(
      '<tool_call>\n{"name":"get_weather","arguments":{"city":"Paris"}}\n</tool_call>',
    );
    expect(out[3]!.content).toBe('<tool_response>\nsunny\n</tool_response>');
    expect(conversationOf([{ role: 'user', content: 'hi' }], set)[0]!.role).toBe('system');
  });
});

/** The id of a token from its bytes (the micro vocabulary has no two tokens with the same bytes). */
function bytesToId(bytes: number[]): number {
  const id = served.vocabulary.findIndex(
    (v) => v !== undefined && v.length === bytes.length && v.every((b, i) => b === bytes[i]),
  );
  expect(id).toBeGreaterThanOrEqual(0);
  return id;
}
