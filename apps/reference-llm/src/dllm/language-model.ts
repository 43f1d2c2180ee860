import { cutAtStops, diffusionNll, generate } from '@tessera/dllm';
import type { LanguageModel } from '@tessera/eval';
import { checkOptions } from '@tessera/tensor-webgpu';
import type { Tokenizer } from '@tessera/tokenizer';
import { scoredIds } from '../language-model.js';
import type { DiffusionModel } from './load.js';

/** How a diffusion model answers the eval runner. */
export interface DiffusionLanguageModelOptions {
  /** Monte Carlo samples of the likelihood bound per scored continuation (LLaDA uses 128). Default 16. */
  samples?: number;
  /** Tokens committed per denoising step when generating (greedy, low-confidence). Default 1. */
  tokensPerStep?: number;
}

/**
 * A trained diffusion model as the eval runner's `LanguageModel`, so the benchmark tasks run on
 * it as on the autoregressive model (LLaDA evaluates the same way):
 *
 * - `logLikelihood` is minus `diffusionNll`'s Monte Carlo bound on the continuation's NLL given
 *   the context — a lower bound on the log-likelihood in expectation, not the exact figure. Every
 *   call draws the same masks (seed 0), so the choices of a question are compared with the same
 *   noise. The context is cut from the left to fit the window; an empty context becomes the
 *   end-of-text token, as for the autoregressive model.
 * - `generate` denoises a span of `maxTokens` tokens after the prompt in
 *   ⌈maxTokens / tokensPerStep⌉ greedy steps (the span's length is fixed, so a stop sequence
 *   trims it); the prompt is cut from the left so that prompt and span fit the window.
 *
 * @throws RangeError - unknown options, `samples` or `tokensPerStep` not an integer >= 1; from
 *   the methods, an empty continuation, a continuation or span that does not fit the window
 */
export function asDiffusionLanguageModel(
  model: DiffusionModel,
  tokenizer: Tokenizer,
  id: string,
  options: DiffusionLanguageModelOptions = {},
): LanguageModel {
  checkOptions('asDiffusionLanguageModel', options, ['samples', 'tokensPerStep']);
  const { samples = 16, tokensPerStep = 1 } = options;
  for (const [name, v] of Object.entries({ samples, tokensPerStep }))
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`asDiffusionLanguageModel: ${name} must be an integer >= 1, got ${v}`);
  const encode = (s: string) => Array.from(tokenizer.encode(s, { disallowedSpecial: [] }));
  const window = model.maxSequenceLength;
  return {
    id,
    async logLikelihood(context, continuation) {
      const { ids: all, from } = scoredIds(tokenizer, window, context, continuation);
      const [nll] = await diffusionNll(model, [all], { from, samples });
      return -nll!;
    },
    async generate(prompt, { maxTokens, stop }) {
      if (maxTokens >= window)
        throw new RangeError(
          `generate: maxTokens ${maxTokens} leaves no room for the prompt in the model's window of ${window}`,
        );
      const ids = encode(prompt).slice(-(window - maxTokens));
      const { tokens } = await generate(model, ids, {
        length: maxTokens,
        steps: Math.ceil(maxTokens / tokensPerStep),
        temperature: 0,
      });
      return cutAtStops(tokenizer.decode(tokens), stop);
    },
  };
}
