import type { TokenizedExample } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import {
  applyChatTemplate,
  CHAT_SPECIAL_TOKENS,
  type ChatMessage,
  Tokenizer,
} from '@tessera/tokenizer';
import { DecoderLM } from '@tessera/transformer';

/**
 * How the tuned models format conversations: ChatML (`<|im_start|>role\ncontent<|im_end|>\n`,
 * `@tessera/tokenizer`'s `applyChatTemplate(…, 'chatml')`), with `<|im_start|>` and `<|im_end|>`
 * as special tokens. The pretrained tokenizer has only `<|endoftext|>`, so `sft` appends the two
 * (`addChatTokens`) and grows the model's embedding (and LM head) by two rows, initialised to the
 * mean of the existing rows (`resizeVocabulary`, as Hugging Face's `resize_token_embeddings`
 * with mean resizing; Hewitt 2021). `<|im_end|>` ends a reply: generation stops there.
 */
export const CHAT_TEMPLATE = 'chatml' as const;
/** The chat template's special tokens: `<|im_start|>` opens a message, `<|im_end|>` ends it. */
export const [IM_START, IM_END] = CHAT_SPECIAL_TOKENS[CHAT_TEMPLATE] as [string, string];

/** Whether a tokenizer has the chat template's special tokens. */
export function hasChatTokens(tokenizer: Tokenizer): boolean {
  return IM_START in tokenizer.specialTokens && IM_END in tokenizer.specialTokens;
}

/** The tokenizer with `<|im_start|>` and `<|im_end|>` appended as special tokens (ids V and V + 1). */
export function addChatTokens(tokenizer: Tokenizer): Tokenizer {
  if (hasChatTokens(tokenizer)) return tokenizer;
  const v = tokenizer.vocabSize;
  const { config } = tokenizer;
  return new Tokenizer({
    ...config,
    specialTokens: { ...config.specialTokens, [IM_START]: v, [IM_END]: v + 1 },
  });
}

/**
 * A copy of `model` with `vocabSize` token rows: the old rows as they were, each new row the
 * mean of the old ones (embedding, and the LM head when it is not tied). Frees `model`.
 *
 * @throws RangeError - a vocabulary smaller than the model's
 */
export function resizeVocabulary(model: DecoderLM, vocabSize: number): DecoderLM {
  const old = model.vocabSize;
  if (vocabSize < old)
    throw new RangeError(`resizeVocabulary: ${vocabSize} tokens, fewer than the model's ${old}`);
  const grown = new DecoderLM({ ...model.config, vocabSize }, model.device);
  const rows = ['model.embed_tokens.weight', 'lm_head.weight'];
  const state = T.tidy(() =>
    Object.fromEntries(
      Object.entries(model.stateDict()).map(([name, t]) => {
        if (!rows.includes(name) || vocabSize === old) return [name, t];
        const mean = T.mean(t, 0, { keepDim: true });
        return [name, T.cat([t, T.expand(mean, [vocabSize - old, t.shape[1]!])], 0)];
      }),
    ),
  );
  grown.loadStateDict(state);
  for (const [name, t] of Object.entries(state))
    if (rows.includes(name) && vocabSize !== old) t.dispose();
  model.dispose();
  return grown;
}

/** Text ↔ tokens for the tuned models: conversations in ChatML, replies ending at `<|im_end|>`. */
export class ChatFormat {
  /** The id that ends a reply (`<|im_end|>`): generation's stop token. */
  readonly endId: number;

  /** @throws Error - a tokenizer without the chat tokens (a checkpoint that `sft` did not write) */
  constructor(readonly tokenizer: Tokenizer) {
    if (!hasChatTokens(tokenizer))
      throw new Error(
        `the tokenizer has no ${IM_START} / ${IM_END} tokens: it is not a chat model's (run sft first)`,
      );
    this.endId = tokenizer.specialId(IM_END);
  }

  /** The tokens of `text`, its `<|im_start|>` and `<|im_end|>` read as the special tokens. */
  encode(text: string): number[] {
    return Array.from(this.tokenizer.encode(text, { allowedSpecial: [IM_START, IM_END] }));
  }

  /** The tokens of a prompt up to where the assistant's reply begins (`<|im_start|>assistant\n`). */
  promptIds(messages: readonly ChatMessage[]): number[] {
    return [
      ...messages.flatMap((m) => this.encode(applyChatTemplate([m], CHAT_TEMPLATE))),
      ...this.encode(applyChatTemplate([], CHAT_TEMPLATE, { addGenerationPrompt: true })),
    ];
  }

  /**
   * The same prompt as text (what a text-in, text-out model is given): `encode(promptText(m))`
   * is `promptIds(m)`, since the chat tokens split the text where the messages meet.
   */
  promptText(messages: readonly ChatMessage[]): string {
    return (
      messages.map((m) => applyChatTemplate([m], CHAT_TEMPLATE)).join('') +
      applyChatTemplate([], CHAT_TEMPLATE, { addGenerationPrompt: true })
    );
  }

  /**
   * A conversation as tokens with its completion mask: 1 on each assistant reply and the
   * `<|im_end|>` after it (what SFT learns), 0 on everything else. Ends with the last reply's
   * `<|im_end|>`. Each message is encoded on its own, and a reply apart from its header, exactly
   * as `promptIds` encodes a prompt for generation.
   */
  encodeConversation(messages: readonly ChatMessage[]): TokenizedExample & { ids: number[] } {
    const ids: number[] = [];
    const mask: number[] = [];
    const push = (tokens: number[], learn: boolean) => {
      ids.push(...tokens);
      for (const _ of tokens) mask.push(learn ? 1 : 0);
    };
    messages.forEach((m, i) => {
      if (m.role !== 'assistant') {
        push(this.encode(applyChatTemplate([m], CHAT_TEMPLATE)), false);
        return;
      }
      push(this.encode(applyChatTemplate([], CHAT_TEMPLATE, { addGenerationPrompt: true })), false);
      push(this.encode(`${m.content}${IM_END}`), true);
      if (i < messages.length - 1) push(this.encode('\n'), false);
    });
    return { ids, completionMask: mask };
  }

  /** The text of a generated reply: its tokens decoded, cut at `<|im_end|>`. */
  replyText(ids: readonly number[]): string {
    const end = ids.indexOf(this.endId);
    return this.tokenizer.decode(end >= 0 ? ids.slice(0, end) : ids);
  }
}
