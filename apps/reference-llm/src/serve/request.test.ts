import { describe, expect, it } from 'vitest';
import type { ChoiceResult } from './choice.js';
import type { ServedModel } from './models.js';
import { failureOf, maxTokensOf, responseId, samplingOf, stopsOf, usageOf } from './request.js';

/** The two fields these helpers read of a served model. */
const model = {
  tokenizer: { vocabSize: 100 },
  engine: { maxLength: 64 },
} as unknown as ServedModel;

const result = (ended: ChoiceResult['ended'], completionTokens = 3): ChoiceResult => ({
  finishReason: undefined,
  ended,
  text: '',
  toolCalls: [],
  completionTokens,
  tokens: [],
});

describe('request helpers', () => {
  it("samplingOf: OpenAI's defaults, seed + i per choice, top_p 0 as greedy, logit_bias checked", () => {
    const [a, b] = samplingOf(
      { model: 'm', seed: 2 ** 32 + 5, logit_bias: { '7': -100 } },
      model,
      2,
      3,
    );
    expect(a).toEqual({
      temperature: 1,
      topP: undefined,
      presencePenalty: undefined,
      frequencyPenalty: undefined,
      logitBias: { 7: -100 },
      seed: 5,
      logprobs: 3,
    });
    expect(b!.seed).toBe(6);
    expect(
      samplingOf({ model: 'm', top_p: 0, temperature: 0.7 }, model, 1, undefined)[0],
    ).toMatchObject({ temperature: 0, topP: undefined });
    expect(samplingOf({ model: 'm', top_p: 0.5 }, model, 1, undefined)[0]!.topP).toBe(0.5);
    const random = samplingOf({ model: 'm' }, model, 1, undefined)[0]!.seed;
    expect(Number.isInteger(random) && random >= 0 && random < 2 ** 32).toBe(true);
    expect(() => samplingOf({ model: 'm', logit_bias: { '100': 1 } }, model, 1, undefined)).toThrow(
      "logit_bias names token 100; the model's vocabulary has ids 0..99",
    );
  });

  it('maxTokensOf fills the window by default and refuses what does not fit, naming the prompt', () => {
    expect(maxTokensOf(model, 10, undefined, 'messages')).toBe(54);
    expect(maxTokensOf(model, 10, 54, 'messages')).toBe(54);
    expect(() => maxTokensOf(model, 10, 55, 'prompt')).toThrow(
      "This model's maximum context length is 64 tokens. However, you requested 65 tokens (10 in the prompt, 55 in the completion).",
    );
    expect(() => maxTokensOf(model, 64, undefined, 'messages')).toThrow(
      /requested 64 tokens \(64 in the messages, 0 in/,
    );
  });

  it('stops, ids, usage and the error of a request whose choices did not finish', () => {
    expect(stopsOf({ model: 'm', stop: 'x' })).toEqual(['x']);
    expect(stopsOf({ model: 'm', stop: null })).toEqual([]);
    expect(responseId('cmpl')).toMatch(/^cmpl-[0-9a-f]{24}$/);
    expect(usageOf(7, [result('stop', 2), result('length', 5)])).toEqual({
      prompt_tokens: 7,
      completion_tokens: 7,
      total_tokens: 14,
    });
    expect(failureOf([result('stop'), result('length')], 1000)).toBeUndefined();
    expect(failureOf([result('stop'), result('timeout')], 30_000)).toMatchObject({
      status: 408,
      code: 'request_timeout',
      message: expect.stringMatching(/limit of 30 s/),
    });
    expect(failureOf([result('error')], 1)).toMatchObject({ status: 500, type: 'server_error' });
  });
});
