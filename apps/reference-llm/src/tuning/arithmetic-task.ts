import type { TaskResult } from '@tessera/eval';
import type { DecoderLM } from '@tessera/transformer';
import { ARITHMETIC_TASK, arithmeticData } from './arithmetic.js';
import type { ChatFormat } from './chat-format.js';
import { chatLanguageModel } from './chat-language-model.js';
import { runChatTask } from './chat-task.js';

/**
 * The held-out multi-step arithmetic of the `grpo` stage as a benchmark row: the first `count`
 * held-out problems of `seed` (the `grpo` run of the same seed holds them out; it generates the
 * held-out split first), answered greedily in ChatML through the benchmark runner
 * (`runChatTask`, 0-shot), scored by the final `Answer:` line. Metrics: `accuracy` and `format`
 * (the reply ended with an `Answer:` line). `id` names the model in errors (its folder).
 */
export async function heldoutArithmetic(
  model: DecoderLM,
  chat: ChatFormat,
  id: string,
  o: { seed: number; count: number; maxNewTokens: number },
): Promise<TaskResult> {
  const { heldout } = arithmeticData(o.seed, { train: 0, heldout: o.count });
  const lm = chatLanguageModel(model, chat, id);
  return (await runChatTask(lm, chat, ARITHMETIC_TASK, heldout, o.maxNewTokens)).result;
}
