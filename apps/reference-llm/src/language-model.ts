import type { LanguageModel } from '@tessera/eval';
import { generateText } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import type { Tokenizer } from '@tessera/tokenizer';
import type { DecoderLM } from '@tessera/transformer';

/**
 * A trained DecoderLM as the eval runner's LanguageModel: continuation log-likelihoods from one
 * forward pass (context cut from the left to fit the window), greedy generation with stop sequences.
 */
export function asLanguageModel(model: DecoderLM, tokenizer: Tokenizer, id: string): LanguageModel {
  const encode = (s: string) => Array.from(tokenizer.encode(s, { disallowedSpecial: [] }));
  return {
    id,
    async logLikelihood(context, continuation) {
      const cont = encode(continuation);
      if (cont.length === 0)
        throw new RangeError(
          `logLikelihood: continuation ${JSON.stringify(continuation)} has no tokens`,
        );
      const all = [...encode(context), ...cont].slice(-(model.config.maxSeqLen + 1));
      const input = all.slice(0, -1);
      const x = T.tensor(Int32Array.from(input), {
        shape: [1, input.length],
        device: model.device,
      });
      const logp = T.noGrad(() => T.tidy(() => T.logSoftmax(model.forward(x), -1)));
      const data = (await logp.data()) as Float32Array;
      for (const t of [x, logp]) t.dispose();
      const v = model.vocabSize;
      let sum = 0;
      // Token all[i + 1] is predicted at position i; the continuation is the last cont.length tokens.
      for (let i = all.length - 1 - cont.length; i < all.length - 1; i++)
        sum += data[i * v + all[i + 1]!]!;
      return sum;
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
