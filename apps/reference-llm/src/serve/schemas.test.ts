import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { chatCompletionBody, completionBody } from './schemas.js';

// The options the server gives fastify's ajv: no coercion, nothing removed.
const ajv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: false });
const chat = ajv.compile(chatCompletionBody(4));
const completion = ajv.compile(completionBody(4));

describe('request schemas', () => {
  it('accept every parameter the server supports', () => {
    const body = {
      model: 'm',
      messages: [
        { role: 'developer', content: 'x' },
        { role: 'user', content: [{ type: 'text', text: 'y' }], name: 'ann' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c', content: 'z' },
      ],
      temperature: 0.5,
      top_p: 1,
      n: 4,
      max_tokens: 3,
      max_completion_tokens: 3,
      stop: ['a', 'b'],
      seed: -3,
      presence_penalty: -2,
      frequency_penalty: 2,
      logit_bias: { '5': -100 },
      logprobs: true,
      top_logprobs: 20,
      stream: true,
      stream_options: { include_usage: true },
      user: 'u',
      parallel_tool_calls: false,
      tools: [
        {
          type: 'function',
          function: { name: 'f', description: 'd', parameters: { type: 'object' }, strict: null },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'f' } },
    };
    expect(chat(body), ajv.errorsText(chat.errors)).toBe(true);
    expect(
      completion({ model: 'm', prompt: ['a', 'b'], logprobs: 5, max_tokens: null }),
      ajv.errorsText(completion.errors),
    ).toBe(true);
  });

  it('refuse wrong types without coercing them, values out of range and unknown parameters', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
    for (const bad of [
      { temperature: '1' },
      { temperature: 2.5 },
      { n: 5 },
      { n: 1.5 },
      { max_tokens: 0 },
      { stop: ['a', 'b', 'c', 'd', 'e'] },
      { top_logprobs: 21 },
      { logit_bias: { x: 1 } },
      { logit_bias: { '1': 101 } },
      { tool_choice: 'sometimes' },
      { tools: [{ type: 'function', function: { name: 'has space' } }] },
      { stream: 'yes' },
      { echo: true },
      { messages: [{ role: 'user', content: 'x', extra: 1 }] },
      { messages: [{ role: 'tool', content: 'x' }] },
      { stop: '' },
      { stop: [''] },
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] },
    ])
      expect(chat({ ...base, ...bad }), JSON.stringify(bad)).toBe(false);
    expect(completion({ model: 'm', prompt: ['a', 'b', 'c', 'd', 'e'] })).toBe(false);
    for (const prompt of [[1.5], [-1], [[]], [1, 'a'], [[1], 'a'], []])
      expect(completion({ model: 'm', prompt }), JSON.stringify(prompt)).toBe(false);
    for (const prompt of [
      [1, 2],
      [[1], [2, 3]],
    ])
      expect(completion({ model: 'm', prompt, echo: true }), JSON.stringify(prompt)).toBe(true);
  });
});
