import type { ChatModel } from '@tessera/eval';
import { type CausalLM, generate } from '@tessera/sampler';
import type { Tokenizer } from '@tessera/tokenizer';
import { chatFormatOf } from '../serve/chat-format.js';
import type { ConversationWindow } from './window.js';

/** Reply length and sampling of the agent's model. */
export interface AgentSampling {
  maxNewTokens: number;
  /** 0 is greedy. */
  temperature: number;
  seed: number;
}

/** A chat model and the window its conversations must fit, for `runAgent` to fit them. */
export interface WindowedChatModel extends ChatModel {
  readonly window: ConversationWindow;
}

/**
 * A checkpoint as a `ChatModel`, reading conversations in the server's chat format
 * (`serve/chat-format.ts`: the tokenizer's chat template, or a play's `ROLE:` lines for a
 * pretrained model), the reply ending at the format's stop token or text. Its `window` counts a
 * conversation's tokens in that format; a conversation that does not leave
 * `sampling.maxNewTokens` free in the model's window is refused, never cut (`fitConversation`
 * fits one).
 *
 * @throws RangeError - `sampling.maxNewTokens` leaves no room for a prompt; from `chat`, a
 *   conversation that does not fit (the message gives the counts)
 */
export function asChatModel(
  model: CausalLM & { readonly maxSequenceLength: number },
  tokenizer: Tokenizer,
  sampling: AgentSampling,
  id: string,
): WindowedChatModel {
  const format = chatFormatOf(tokenizer);
  const size = model.maxSequenceLength;
  const replyTokens = sampling.maxNewTokens;
  if (replyTokens >= size)
    throw new RangeError(
      `--max-new-tokens ${replyTokens} leaves no room for a prompt in the model's ${size}-token window`,
    );
  let turn = 0;
  return {
    id,
    window: { size, replyTokens, tokens: (messages) => format.encode(messages).length },
    async chat(messages) {
      const prompt = format.encode(messages);
      if (prompt.length + replyTokens > size)
        throw new RangeError(
          `asChatModel: the conversation takes ${prompt.length} tokens, over the ${size - replyTokens} that the model's ${size}-token window leaves beside --max-new-tokens ${replyTokens}`,
        );
      const ids: number[] = [];
      for await (const next of generate(model, prompt, {
        maxNewTokens: replyTokens,
        temperature: sampling.temperature,
        seed: sampling.seed + turn,
        stopTokenIds: [...format.stopTokenIds],
      })) {
        if (format.stopTokenIds.includes(next)) break;
        ids.push(next);
      }
      turn++;
      const text = tokenizer.decode(ids);
      const stops = format.stopSequences.map((s) => text.indexOf(s)).filter((i) => i >= 0);
      return stops.length ? text.slice(0, Math.min(...stops)) : text;
    },
  };
}
