import type { ChatModel } from '@tessera/eval';
import { type CausalLM, generate } from '@tessera/sampler';
import type { Tokenizer } from '@tessera/tokenizer';
import { chatFormatOf } from '../serve/chat-format.js';

/** Reply length and sampling of the agent's model. */
export interface AgentSampling {
  maxNewTokens: number;
  /** 0 is greedy. */
  temperature: number;
  seed: number;
}

/**
 * A checkpoint as a `ChatModel`, reading conversations in the server's chat format
 * (`serve/chat-format.ts`: the tokenizer's chat template, or a play's `ROLE:` lines for a
 * pretrained model), the reply ending at the format's stop token or text. A conversation longer
 * than the window loses its oldest tokens, and `onCut` is told how many.
 */
export function asChatModel(
  model: CausalLM & { readonly maxSequenceLength: number },
  tokenizer: Tokenizer,
  sampling: AgentSampling,
  id: string,
  onCut?: (tokens: number) => void,
): ChatModel {
  const format = chatFormatOf(tokenizer);
  const window = model.maxSequenceLength;
  const room = Math.min(sampling.maxNewTokens, Math.max(1, window - 8));
  let turn = 0;
  return {
    id,
    async chat(messages) {
      const prompt = format.encode(messages);
      const cut = Math.max(0, prompt.length - (window - room));
      if (cut > 0) onCut?.(cut);
      const ids: number[] = [];
      for await (const next of generate(model, prompt.slice(cut), {
        maxNewTokens: room,
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
