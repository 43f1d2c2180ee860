import { padSequences, sftEvalLoss } from '@tessera/rlhf';
import type { DecoderLM } from '@tessera/transformer';
import type { ChatFormat } from './chat-format.js';
import { rowLength } from './examples.js';
import type { ChatExample } from './jsonl.js';

/**
 * The model's mean negative log-likelihood (nats per token) of the reference replies of held-out
 * chats, `batchSize` chats per forward pass (`sftEvalLoss`: reply tokens and `<|im_end|>` only;
 * with `completionOnly` false, every token).
 */
export async function heldoutLoss(
  model: DecoderLM,
  chat: ChatFormat,
  examples: readonly ChatExample[],
  batchSize: number,
  completionOnly = true,
): Promise<number> {
  const rows = examples.map((e) => chat.encodeConversation(e.messages));
  let nats = 0;
  let tokens = 0;
  for (let i = 0; i < rows.length; i += batchSize) {
    const part = rows.slice(i, i + batchSize);
    const lengths = part.map((r) => r.ids.length);
    const r = await sftEvalLoss(
      model,
      padSequences(part, { length: rowLength(lengths, model.config.maxSeqLen), completionOnly }),
    );
    nats += r.loss * r.tokens;
    tokens += r.tokens;
  }
  return nats / Math.max(tokens, 1);
}
