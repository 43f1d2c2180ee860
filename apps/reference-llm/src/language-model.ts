import type { LanguageModel } from '@tessera/eval';
import { generateText, tokenLogprobs } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import type { Tokenizer } from '@tessera/tokenizer';
import type { DecoderLM } from '@tessera/transformer';
import { nonFiniteLogitsError, withFiniteLogits } from './finite.js';

/** The token that stands in for an empty context, as lm-evaluation-harness uses the end-of-text token. */
const PREFIX_TOKEN = '<|endoftext|>';

/**
 * The token ids a log-likelihood scores: the context's, then the continuation's, cut from the
 * left to the model's `window`, and `from`, where the continuation starts. An empty context is
 * the end-of-text token, so that the continuation's first token is scored given something.
 *
 * @throws RangeError - a continuation with no tokens or with `window` tokens or more; an empty
 *   context and a tokenizer without `<|endoftext|>`
 */
export function scoredIds(
  tokenizer: Tokenizer,
  window: number,
  context: string,
  continuation: string,
): { ids: number[]; from: number } {
  const encode = (s: string) => Array.from(tokenizer.encode(s, { disallowedSpecial: [] }));
  const cont = encode(continuation);
  if (cont.length === 0)
    throw new RangeError(
      `logLikelihood: continuation ${JSON.stringify(continuation)} has no tokens`,
    );
  if (cont.length >= window)
    throw new RangeError(
      `logLikelihood: continuation has ${cont.length} tokens; the model's window of ${window} scores at most ${window - 1}`,
    );
  let prefix = encode(context);
  if (prefix.length === 0) {
    const eot = tokenizer.specialTokens[PREFIX_TOKEN];
    if (eot === undefined)
      throw new RangeError(
        `logLikelihood: the context is empty and the tokenizer has no ${PREFIX_TOKEN} token to stand in for it`,
      );
    prefix = [eot];
  }
  const ids = [...prefix, ...cont].slice(-window);
  return { ids, from: ids.length - cont.length };
}

/**
 * A trained DecoderLM as the eval runner's LanguageModel: continuation log-likelihoods from one
 * forward pass, summed on the device by `tokenLogprobs` (the context is cut from the left to fit
 * the window; an empty context becomes the end-of-text token, so the continuation's first token
 * is scored too), and greedy generation with stop sequences. `id` names the model in errors (the
 * checkpoint's folder): logits that are not finite are refused (`nonFiniteLogitsError`), never
 * scored.
 */
export function asLanguageModel(model: DecoderLM, tokenizer: Tokenizer, id: string): LanguageModel {
  const window = model.config.maxSeqLen;
  return {
    id,
    async logLikelihood(context, continuation) {
      const { ids: all, from } = scoredIds(tokenizer, window, context, continuation);
      const ids = T.tensor(Int32Array.from(all), { shape: [1, all.length], device: model.device });
      const total = T.noGrad(() => T.tidy(() => T.sum(tokenLogprobs(model, ids, { from }))));
      const logprob = await total.item();
      ids.dispose();
      total.dispose();
      if (!Number.isFinite(logprob))
        throw nonFiniteLogitsError(
          id,
          `the log-likelihood of ${JSON.stringify(continuation)} is ${logprob}`,
        );
      return logprob;
    },
    generate(prompt, { maxTokens, stop }) {
      return withFiniteLogits(id, () =>
        generateText(model, tokenizer, prompt, {
          maxNewTokens: maxTokens,
          temperature: 0,
          stopSequences: stop,
        }),
      );
    },
  };
}
