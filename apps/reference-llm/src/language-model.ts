import type { LanguageModel } from '@tessera/eval';
import { generateText, tokenLogprobs } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import type { Tokenizer } from '@tessera/tokenizer';
import type { DecoderLM } from '@tessera/transformer';

/** The token that stands in for an empty context, as lm-evaluation-harness uses the end-of-text token. */
const PREFIX_TOKEN = '<|endoftext|>';

/**
 * A trained DecoderLM as the eval runner's LanguageModel: continuation log-likelihoods from one
 * forward pass, summed on the device by `tokenLogprobs` (the context is cut from the left to fit
 * the window; an empty context becomes the end-of-text token, so the continuation's first token
 * is scored too), and greedy generation with stop sequences.
 */
export function asLanguageModel(model: DecoderLM, tokenizer: Tokenizer, id: string): LanguageModel {
  const encode = (s: string) => Array.from(tokenizer.encode(s, { disallowedSpecial: [] }));
  const window = model.config.maxSeqLen;
  return {
    id,
    async logLikelihood(context, continuation) {
      const cont = encode(continuation);
      if (cont.length === 0)
        throw new RangeError(
          `logLikelihood: continuation ${JSON.stringify(continuation)} has no tokens`,
        );
      if (cont.length >= window)
        throw new RangeError(
          `logLikelihood: continuation has ${cont.length} tokens; the model's window of ${window} scores at most ${window - 1}`,
        );
      const prefix = encode(context);
      if (prefix.length === 0) {
        const eot = tokenizer.specialTokens[PREFIX_TOKEN];
        if (eot === undefined)
          throw new RangeError(
            `logLikelihood: the context is empty and the tokenizer has no ${PREFIX_TOKEN} token to stand in for it`,
          );
        prefix.push(eot);
      }
      const all = [...prefix, ...cont].slice(-window);
      const ids = T.tensor(Int32Array.from(all), { shape: [1, all.length], device: model.device });
      // The continuation is the last cont.length tokens: score from the first of them.
      const from = all.length - cont.length;
      const total = T.noGrad(() => T.tidy(() => T.sum(tokenLogprobs(model, ids, { from }))));
      const logprob = await total.item();
      ids.dispose();
      total.dispose();
      return logprob;
    },
    generate(prompt, { maxTokens, stop }) {
      return generateText(model, tokenizer, prompt, {
        maxNewTokens: maxTokens,
        temperature: 0,
        stopSequences: stop,
      });
    },
  };
}
