import type { TaskResult } from '@tessera/eval';
import type { DecoderLM } from '@tessera/transformer';
import { ARITHMETIC_TASK, arithmeticData } from './arithmetic.js';
import type { ChatFormat } from './chat-format.js';
import { scoreReplies } from './replies.js';

/**
 * The held-out multi-step arithmetic of the `grpo` stage as a benchmark row: the first `count`
 * held-out problems of `seed` (the `grpo` run of the same seed holds them out; it generates the
 * held-out split first), answered greedily in ChatML, scored by the final `Answer:` line.
 * Metrics: `accuracy` and `format` (the reply ended with an `Answer:` line).
 */
export async function heldoutArithmetic(
  model: DecoderLM,
  chat: ChatFormat,
  o: { seed: number; count: number; maxNewTokens: number },
): Promise<TaskResult> {
  const { heldout } = arithmeticData(o.seed, { train: 0, heldout: o.count });
  const scores = await scoreReplies(model, chat, heldout, { maxNewTokens: o.maxNewTokens });
  return {
    task: ARITHMETIC_TASK,
    n: heldout.length,
    numFewshot: 0,
    metrics: { accuracy: scores.accuracy, format: scores.format },
  };
}
