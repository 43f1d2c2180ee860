import { randomBytes, randomInt } from 'node:crypto';
import type { ChoiceResult, ChoiceSampling } from './choice.js';
import { ApiError, invalidRequest } from './errors.js';
import type { ServedModel } from './models.js';
import type { SamplingBody } from './schemas.js';

/** The parts of a request both completion routes read the same way. */

/** The served model a request names; 404 `model_not_found` for any other name. */
export function findModel(models: ReadonlyMap<string, ServedModel>, name: string): ServedModel {
  const model = models.get(name);
  if (!model)
    throw new ApiError(
      404,
      `The model '${name}' does not exist or you do not have access to it.`,
      'invalid_request_error',
      'model',
      'model_not_found',
    );
  return model;
}

/**
 * The sampling options of each of `count` choices: OpenAI's defaults (temperature 1, top_p 1),
 * `top_p: 0` as greedy, and seed + i for choice i (a random seed when none is given, as OpenAI
 * samples differently on every call). 400 for a `logit_bias` id outside the vocabulary.
 */
export function samplingOf(
  body: SamplingBody,
  model: ServedModel,
  count: number,
  logprobs: number | undefined,
): ChoiceSampling[] {
  const logitBias: Record<number, number> = {};
  for (const [id, bias] of Object.entries(body.logit_bias ?? {})) {
    if (Number(id) >= model.tokenizer.vocabSize)
      throw invalidRequest(
        `logit_bias names token ${id}; the model's vocabulary has ids 0..${model.tokenizer.vocabSize - 1}`,
        'logit_bias',
      );
    logitBias[Number(id)] = bias;
  }
  const seed = body.seed ?? randomInt(2 ** 32);
  const topP = body.top_p ?? 1;
  return Array.from({ length: count }, (_, i) => ({
    temperature: topP === 0 ? 0 : (body.temperature ?? 1),
    topP: topP > 0 && topP < 1 ? topP : undefined,
    presencePenalty: body.presence_penalty ?? undefined,
    frequencyPenalty: body.frequency_penalty ?? undefined,
    logitBias: Object.keys(logitBias).length ? logitBias : undefined,
    seed: (seed + i) >>> 0,
    logprobs,
  }));
}

/** `stop` as a list. */
export function stopsOf(body: SamplingBody): string[] {
  return body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
}

/**
 * Tokens a choice may generate: the request's limit, by default as many as the window leaves.
 * 400 `context_length_exceeded` (naming `param`, the prompt's parameter) when the prompt and the
 * limit do not fit the window.
 */
export function maxTokensOf(
  model: ServedModel,
  promptTokens: number,
  requested: number | null | undefined,
  param: string,
): number {
  const window = model.engine.maxLength;
  const maxTokens = requested ?? window - promptTokens;
  if (promptTokens + Math.max(maxTokens, 1) > window)
    throw invalidRequest(
      `This model's maximum context length is ${window} tokens. However, you requested ${promptTokens + maxTokens} tokens (${promptTokens} in the ${param}, ${maxTokens} in the completion). Please reduce the length of the ${param} or the completion.`,
      param,
      'context_length_exceeded',
    );
  return maxTokens;
}

/** A response id: the prefix and 24 random hex digits. */
export const responseId = (prefix: string) => `${prefix}-${randomBytes(12).toString('hex')}`;

/** The error a finished request answers with when a choice did not finish. */
export function failureOf(
  results: readonly ChoiceResult[],
  timeoutMs: number,
): ApiError | undefined {
  if (results.some((r) => r.ended === 'timeout'))
    return new ApiError(
      408,
      `The request took longer than the server's limit of ${timeoutMs / 1000} s.`,
      'timeout_error',
      null,
      'request_timeout',
    );
  if (results.some((r) => r.ended === 'error'))
    return new ApiError(
      500,
      'The server had an error while processing your request.',
      'server_error',
    );
  if (results.some((r) => r.ended === 'cancelled'))
    return new ApiError(499, 'The request was cancelled.', 'cancelled');
  return undefined;
}

/** `usage` of a response. */
export function usageOf(promptTokens: number, results: readonly ChoiceResult[]) {
  const completion = results.reduce((s, r) => s + r.completionTokens, 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
  };
}
