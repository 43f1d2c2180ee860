import type { ChatMessage } from '@tessera/tokenizer';
import type { FastifyInstance } from 'fastify';
import { type ChoiceResult, promptFor, type TokenInfo } from './choice.js';
import { invalidRequest } from './errors.js';
import { findModel, maxTokensOf, samplingOf, stopsOf, usageOf } from './request.js';
import { chunkMaker, responseHead, streamedResults, wholeResults } from './respond.js';
import { type ChatCompletionBody, type ChatMessageBody, chatCompletionBody } from './schemas.js';
import type { ServerContext } from './server.js';
import {
  formatToolCall,
  formatToolResult,
  type ToolChoice,
  Toolset,
  toolsPrompt,
} from './tools.js';

/** OpenAI's `logprobs.content[i]`. */
const logprobEntry = (t: TokenInfo) => ({
  token: t.token,
  logprob: t.logprob,
  bytes: t.bytes,
  top_logprobs: t.top.map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes })),
});

/**
 * The request's messages as the chat format reads them: text parts joined, `developer` as
 * `system`, an assistant's tool calls written as the model writes them, tool results wrapped,
 * and the tools shown in the system message.
 */
export function conversationOf(
  messages: readonly ChatMessageBody[],
  tools: Toolset | undefined,
): ChatMessage[] {
  const text = (m: ChatMessageBody) =>
    typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join('');
  const out: ChatMessage[] = messages.map((m) => {
    if (m.role === 'tool') return { role: 'tool', content: formatToolResult(text(m)) };
    const calls = (m.tool_calls ?? []).map((c) =>
      formatToolCall({ name: c.function.name, arguments: parseArguments(c.function.arguments) }),
    );
    const content = [text(m), ...calls].filter(Boolean).join('\n');
    return { role: m.role === 'developer' ? 'system' : m.role, content };
  });
  if (!tools) return out;
  const prompt = toolsPrompt(tools.tools);
  if (out[0]?.role === 'system')
    out[0] = { role: 'system', content: `${out[0].content}\n\n${prompt}` };
  else out.unshift({ role: 'system', content: prompt });
  return out;
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The request's tools and how they may be called; 400 naming the parameter when they contradict. */
function toolsOf(
  body: ChatCompletionBody,
): { set: Toolset; choice: Exclude<ToolChoice, 'none'> } | undefined {
  const choice = body.tool_choice ?? (body.tools?.length ? 'auto' : 'none');
  if (choice === 'none') return undefined;
  if (!body.tools?.length)
    throw invalidRequest("tool_choice needs 'tools': none were given", 'tool_choice');
  let set: Toolset;
  try {
    set = new Toolset(body.tools);
  } catch (e) {
    throw invalidRequest((e as Error).message, 'tools');
  }
  if (typeof choice === 'object' && !set.find(choice.function.name))
    throw invalidRequest(
      `tool_choice names the function '${choice.function.name}', which is not in 'tools'`,
      'tool_choice',
    );
  return { set, choice };
}

/** `POST /v1/chat/completions`. */
export function chatRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Body: ChatCompletionBody }>(
    '/v1/chat/completions',
    { schema: { body: chatCompletionBody(ctx.maxN) } },
    async (request, reply) => {
      const arrived = performance.now();
      const body = request.body;
      const model = findModel(ctx.models, body.model);
      if (body.top_logprobs != null && !body.logprobs)
        throw invalidRequest('top_logprobs needs logprobs to be true', 'top_logprobs');
      const tools = toolsOf(body);
      const prompt = promptFor(
        model,
        model.format.encode(conversationOf(body.messages, tools?.set)),
        tools,
      );
      const maxTokens = maxTokensOf(
        model,
        prompt.length,
        body.max_completion_tokens ?? body.max_tokens,
        'messages',
      );
      const n = body.n ?? 1;
      const logprobs = body.logprobs ? (body.top_logprobs ?? 0) : undefined;
      const specs = samplingOf(body, model, n, logprobs).map((sampling) => ({
        prompt,
        maxTokens,
        sampling,
        stop: [...stopsOf(body), ...model.format.stopSequences],
        tools,
      }));
      const head = responseHead('chatcmpl', model, ctx);

      if (!body.stream) {
        const results = await wholeResults(model, specs, reply, ctx, arrived);
        return {
          ...head,
          object: 'chat.completion',
          choices: results.map((r, index) => ({
            index,
            message: messageOf(r),
            logprobs:
              logprobs === undefined
                ? null
                : { content: r.tokens.map(logprobEntry), refusal: null },
            finish_reason: r.finishReason,
          })),
          usage: usageOf(prompt.length, results),
        };
      }

      const usage = body.stream_options?.include_usage === true;
      const chunk = chunkMaker(head, 'chat.completion.chunk', usage);
      const streamed = await streamedResults({
        model,
        specs,
        reply,
        ctx,
        arrived,
        route: '/v1/chat/completions',
        onDelta: (stream, index, delta, tokens) =>
          stream.send(
            chunk([
              {
                index,
                delta: { content: delta },
                logprobs:
                  logprobs === undefined
                    ? null
                    : { content: tokens.map(logprobEntry), refusal: null },
                finish_reason: null,
              },
            ]),
          ),
        opening: (stream) =>
          stream.send(
            chunk(
              specs.map((_, index) => ({
                index,
                delta: { role: 'assistant', content: '' },
                logprobs: null,
                finish_reason: null,
              })),
            ),
          ),
      });
      if (!streamed) return;
      const { stream, results } = streamed;
      results.forEach((r, index) => {
        if (r.toolCalls.length)
          stream.send(
            chunk([
              {
                index,
                delta: { tool_calls: r.toolCalls.map((c, i) => ({ index: i, ...c })) },
                logprobs: null,
                finish_reason: null,
              },
            ]),
          );
        stream.send(chunk([{ index, delta: {}, logprobs: null, finish_reason: r.finishReason }]));
      });
      if (usage) stream.send(chunk([], { usage: usageOf(prompt.length, results) }));
      stream.end();
    },
  );
}

/** The assistant message of a finished choice. */
function messageOf(r: ChoiceResult) {
  return {
    role: 'assistant' as const,
    content: r.toolCalls.length && !r.text ? null : r.text,
    refusal: null,
    ...(r.toolCalls.length ? { tool_calls: r.toolCalls } : {}),
  };
}
