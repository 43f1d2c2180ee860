import type { LanguageModel } from '@tessera/eval';
import { type GenerateOptions, generateBatch } from '@tessera/sampler';
import type { DecoderLM } from '@tessera/transformer';
import { withFiniteLogits } from '../finite.js';
import { asLanguageModel } from '../language-model.js';
import { type ChatFormat, IM_END } from './chat-format.js';

/** A generation asked of the model and not yet decoded. */
interface Pending {
  ids: number[];
  options: GenerateOptions;
  resolve: (text: string) => void;
  reject: (error: unknown) => void;
}

/**
 * A chat model as the benchmark runner's `LanguageModel`, answering as the tuned stages were
 * trained to: a prompt is ChatML text (`ChatFormat.promptText`), its chat tokens read as the
 * special tokens; a greedy reply ends at `<|im_end|>` — returned with it, so that the caller sees
 * the reply ended (the runner cuts it at its stop sequences) — or after `maxTokens`, fewer where
 * the prompt leaves less of the model's window (an empty reply where it leaves none). Other stop
 * sequences end a reply as text. Generations asked together (the runner's `concurrency`) decode
 * together, `rows` at a time (default 64; `generateBatch`: each prompt gets the tokens it would
 * get alone), as `scoreReplies` decodes the held-out questions. Log-likelihoods are
 * `asLanguageModel`'s. `id` names the model in errors.
 */
export function chatLanguageModel(
  model: DecoderLM,
  chat: ChatFormat,
  id: string,
  o: { rows?: number } = {},
): LanguageModel {
  const window = model.maxSequenceLength ?? Number.POSITIVE_INFINITY;
  let pending: Pending[] = [];
  const decode = async () => {
    const batch = pending;
    pending = [];
    try {
      const generated = await withFiniteLogits(id, () =>
        generateBatch(
          model,
          batch.map((p) => p.ids),
          batch.map((p) => p.options),
          { rows: Math.min(o.rows ?? 64, batch.length) },
        ),
      );
      for (const [i, p] of batch.entries()) p.resolve(chat.tokenizer.decode(generated[i]!));
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  };
  return {
    ...asLanguageModel(model, chat.tokenizer, id),
    generate(prompt, { maxTokens, stop }) {
      const ids = chat.encode(prompt);
      const budget = Math.min(maxTokens, window - ids.length);
      if (budget < 1) return '';
      const others = stop.filter((s) => s !== IM_END);
      const options: GenerateOptions = {
        maxNewTokens: budget,
        temperature: 0,
        stopTokenIds: [chat.endId],
        ...(others.length > 0 ? { stopSequences: others, codec: chat.tokenizer } : {}),
      };
      return new Promise((resolve, reject) => {
        pending.push({ ids, options, resolve, reject });
        // The runner asks for a task's docs in one synchronous pass: decode them once it is done.
        if (pending.length === 1) setTimeout(decode, 0);
      });
    },
  };
}
