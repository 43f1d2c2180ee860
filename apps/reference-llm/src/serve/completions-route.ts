import type { FastifyInstance } from 'fastify';
import type { TokenInfo } from './choice.js';
import { invalidRequest } from './errors.js';
import type { ServedModel } from './models.js';
import { findModel, maxTokensOf, samplingOf, stopsOf, usageOf } from './request.js';
import { chunkMaker, responseHead, streamedResults, wholeResults } from './respond.js';
import { type CompletionBody, completionBody } from './schemas.js';
import type { ServerContext } from './server.js';

/** The legacy completions' `logprobs` object of some tokens, their text starting at `offset`. */
function legacyLogprobs(tokens: readonly TokenInfo[], offset: number) {
  const textOffset: number[] = [];
  let at = offset;
  for (const t of tokens) {
    textOffset.push(at);
    at += t.token.length;
  }
  return {
    tokens: tokens.map((t) => t.token),
    token_logprobs: tokens.map((t) => t.logprob),
    top_logprobs: tokens.map((t) => Object.fromEntries(t.top.map((a) => [a.token, a.logprob]))),
    text_offset: textOffset,
  };
}

/** What an empty prompt starts from: the end-of-text token, as GPT models do. */
function startOfText(model: ServedModel): number {
  const id = model.tokenizer.specialTokens['<|endoftext|>'];
  if (id === undefined)
    throw invalidRequest(
      "The prompt is empty, and the model has no '<|endoftext|>' token to start from.",
      'prompt',
    );
  return id;
}

/**
 * The request's prompts as token ids: text is encoded (special-token text stays text), token
 * ids are checked against the vocabulary. Throws a 400 naming `prompt` for an id out of range.
 */
function promptTokens(model: ServedModel, prompt: CompletionBody['prompt']): number[][] {
  if (typeof prompt === 'string') prompt = [prompt];
  if (typeof prompt[0] === 'number') prompt = [prompt as number[]];
  return (prompt as (string | number[])[]).map((p, i) => {
    if (typeof p === 'string') return model.tokenizer.encode(p, { disallowedSpecial: [] });
    const bad = p.findIndex((id) => id >= model.tokenizer.vocabSize);
    if (bad >= 0)
      throw invalidRequest(
        `Invalid value for 'prompt': token id ${p[bad]} at prompt ${i}, position ${bad} is outside the vocabulary (ids 0..${model.tokenizer.vocabSize - 1}).`,
        'prompt',
      );
    return [...p];
  });
}

/**
 * `POST /v1/completions`: text continuation of one prompt or several (choice `p·n + j` is the
 * j-th of prompt p). The default `max_tokens` is 16, as OpenAI's.
 */
export function completionsRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Body: CompletionBody }>(
    '/v1/completions',
    { schema: { body: completionBody(ctx.maxN) } },
    async (request, reply) => {
      const arrived = performance.now();
      const body = request.body;
      const model = findModel(ctx.models, body.model);
      const given = promptTokens(model, body.prompt);
      const prompts = given.map((p) => (p.length ? p : [startOfText(model)]));
      if (body.echo && body.logprobs != null)
        throw invalidRequest(
          "'echo' with 'logprobs' is not supported: the prompt's log-probabilities need a scoring pass this server does not run.",
          'echo',
        );
      const n = body.n ?? 1;
      // With `echo`, each choice starts with its prompt: the text sent, or its ids decoded.
      const texts = typeof body.prompt === 'string' ? [body.prompt] : body.prompt;
      const echoes = given.map((p, i) => {
        if (!body.echo) return '';
        const text = texts[i];
        return typeof text === 'string' ? text : model.tokenizer.decode(p);
      });
      const specs = prompts.flatMap((prompt) => {
        const maxTokens = maxTokensOf(model, prompt.length, body.max_tokens ?? 16, 'prompt');
        return samplingOf(body, model, n, body.logprobs ?? undefined).map((sampling) => ({
          prompt,
          maxTokens,
          sampling,
          stop: stopsOf(body),
        }));
      });
      const promptTokenCount = prompts.reduce((s, p) => s + p.length, 0);
      const head = responseHead('cmpl', model, ctx);

      if (!body.stream) {
        const results = await wholeResults(model, specs, reply, ctx, arrived);
        return {
          ...head,
          object: 'text_completion',
          choices: results.map((r, index) => ({
            index,
            text: echoes[Math.floor(index / n)] + r.text,
            logprobs: body.logprobs == null ? null : legacyLogprobs(r.tokens, 0),
            finish_reason: r.finishReason,
          })),
          usage: usageOf(promptTokenCount, results),
        };
      }

      const usage = body.stream_options?.include_usage === true;
      const chunk = chunkMaker(head, 'text_completion', usage);
      const offsets = specs.map(() => 0);
      const streamed = await streamedResults({
        model,
        specs,
        reply,
        ctx,
        arrived,
        route: '/v1/completions',
        onDelta: (stream, index, text, tokens) => {
          const logprobs = body.logprobs == null ? null : legacyLogprobs(tokens, offsets[index]!);
          offsets[index]! += text.length;
          stream.send(chunk([{ index, text, logprobs, finish_reason: null }]));
        },
        opening: (stream) =>
          specs.forEach((_, index) => {
            const text = echoes[Math.floor(index / n)]!;
            if (text) stream.send(chunk([{ index, text, logprobs: null, finish_reason: null }]));
          }),
      });
      if (!streamed) return;
      const { stream, results } = streamed;
      results.forEach((r, index) => {
        stream.send(chunk([{ index, text: '', logprobs: null, finish_reason: r.finishReason }]));
      });
      if (usage) stream.send(chunk([], { usage: usageOf(promptTokenCount, results) }));
      stream.end();
    },
  );
}
