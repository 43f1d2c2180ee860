import type { ToolChoice, ToolDefinition } from './tools.js';

/**
 * JSON Schemas of the request bodies, as OpenAI's API reference defines the parameters the
 * server supports. Fastify validates every request against them before a handler runs; an
 * unknown parameter, a wrong type or a value out of range is a 400 naming it.
 */

const nullable = (schema: object) => ({ anyOf: [schema, { type: 'null' }] });

const sampling = {
  temperature: nullable({ type: 'number', minimum: 0, maximum: 2 }),
  top_p: nullable({ type: 'number', minimum: 0, maximum: 1 }),
  presence_penalty: nullable({ type: 'number', minimum: -2, maximum: 2 }),
  frequency_penalty: nullable({ type: 'number', minimum: -2, maximum: 2 }),
  logit_bias: nullable({
    type: 'object',
    propertyNames: { pattern: '^[0-9]{1,9}$' },
    additionalProperties: { type: 'number', minimum: -100, maximum: 100 },
  }),
  seed: nullable({ type: 'integer', minimum: -(2 ** 53) + 1, maximum: 2 ** 53 - 1 }),
  // One schema for both forms (each keyword applies to its own type), so that the error names
  // what is wrong (too many entries, an empty one) rather than the first alternative.
  stop: nullable({
    type: ['string', 'array'],
    minLength: 1,
    items: { type: 'string', minLength: 1 },
    maxItems: 4,
  }),
  stream: nullable({ type: 'boolean' }),
  stream_options: nullable({
    type: 'object',
    properties: { include_usage: { type: 'boolean' } },
    additionalProperties: false,
  }),
  user: { type: 'string' },
  max_tokens: nullable({ type: 'integer', minimum: 1 }),
};

const n = (maxN: number) => nullable({ type: 'integer', minimum: 1, maximum: maxN });

const textPart = {
  type: 'object',
  required: ['type', 'text'],
  properties: { type: { const: 'text' }, text: { type: 'string' } },
  additionalProperties: false,
};

const toolCall = {
  type: 'object',
  required: ['id', 'type', 'function'],
  properties: {
    id: { type: 'string' },
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name', 'arguments'],
      properties: { name: { type: 'string' }, arguments: { type: 'string' } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

const message = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { enum: ['system', 'developer', 'user', 'assistant', 'tool'] },
    content: { anyOf: [{ type: 'string' }, { type: 'array', items: textPart }, { type: 'null' }] },
    name: { type: 'string' },
    tool_calls: { type: 'array', items: toolCall },
    tool_call_id: { type: 'string' },
    refusal: nullable({ type: 'string' }),
  },
  additionalProperties: false,
  // A tool's result names the call it answers, as OpenAI requires.
  if: { properties: { role: { const: 'tool' } } },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
  then: { required: ['tool_call_id'] },
};

const tool = {
  type: 'object',
  required: ['type', 'function'],
  properties: {
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,64}$' },
        description: { type: 'string' },
        parameters: { type: 'object' },
        strict: nullable({ type: 'boolean' }),
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

const toolChoice = {
  anyOf: [
    { enum: ['none', 'auto', 'required'] },
    {
      type: 'object',
      required: ['type', 'function'],
      properties: {
        type: { const: 'function' },
        function: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string' } },
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
  ],
};

/** `POST /v1/chat/completions`; `n` at most `maxN`. */
export const chatCompletionBody = (maxN: number) => ({
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string' },
    messages: { type: 'array', items: message, minItems: 1 },
    ...sampling,
    n: n(maxN),
    max_completion_tokens: nullable({ type: 'integer', minimum: 1 }),
    logprobs: nullable({ type: 'boolean' }),
    top_logprobs: nullable({ type: 'integer', minimum: 0, maximum: 20 }),
    tools: { type: 'array', items: tool, maxItems: 128 },
    tool_choice: toolChoice,
    parallel_tool_calls: { type: 'boolean' },
  },
  additionalProperties: false,
});

const tokenId = { type: 'integer', minimum: 0 };

/** `POST /v1/completions`; `n` at most `maxN`. */
export const completionBody = (maxN: number) => ({
  type: 'object',
  required: ['model', 'prompt'],
  properties: {
    model: { type: 'string' },
    // Text, several texts, token ids, or several lists of token ids (OpenAI's four forms).
    prompt: {
      anyOf: [
        { type: 'string' },
        { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: maxN },
        { type: 'array', items: tokenId, minItems: 1 },
        {
          type: 'array',
          items: { type: 'array', items: tokenId, minItems: 1 },
          minItems: 1,
          maxItems: maxN,
        },
      ],
    },
    ...sampling,
    n: n(maxN),
    logprobs: nullable({ type: 'integer', minimum: 0, maximum: 5 }),
    echo: nullable({ type: 'boolean' }),
  },
  additionalProperties: false,
});

/** The request bodies' TypeScript shapes (what the schemas admit). */
export interface SamplingBody {
  model: string;
  temperature?: number | null;
  top_p?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  logit_bias?: Record<string, number> | null;
  seed?: number | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  user?: string;
  max_tokens?: number | null;
  n?: number | null;
}

export interface ChatMessageBody {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content?: string | { type: 'text'; text: string }[] | null;
  name?: string;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

export interface ChatCompletionBody extends SamplingBody {
  messages: ChatMessageBody[];
  max_completion_tokens?: number | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
}

export interface CompletionBody extends SamplingBody {
  prompt: string | string[] | number[] | number[][];
  logprobs?: number | null;
  echo?: boolean | null;
}
