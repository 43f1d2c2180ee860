import { randomBytes } from 'node:crypto';
import {
  applyChatTemplate,
  CHAT_SPECIAL_TOKENS,
  type ChatMessage,
  type ChatTemplate,
  type Tokenizer,
} from '@tessera/tokenizer';

/**
 * How a served model reads a conversation. A checkpoint whose tokenizer has a chat template's
 * special tokens (what `sft` adds) gets that template (`@tessera/tokenizer`'s
 * `applyChatTemplate`: ChatML, or Llama 3); a pretrained model without them (the Shakespeare
 * autocompleter) reads the conversation as a play — each message `ROLE:\ncontent\n\n`, then
 * `ASSISTANT:\n` — and its reply ends at the next blank line, where the next speaker would begin.
 */
export interface ChatFormat {
  readonly name: ChatTemplate | 'plain';
  /**
   * The prompt of a conversation, ending where the assistant's reply begins. Only the template
   * places special tokens: special-token text inside a message is encoded as plain text.
   */
  encode(messages: readonly ChatMessage[]): number[];
  /** Ids that end the reply (not part of its text). */
  readonly stopTokenIds: readonly number[];
  /** Texts that end the reply (cut from it). */
  readonly stopSequences: readonly string[];
}

/** The end-of-text token pretraining adds, a stop in every format. */
const END_OF_TEXT = '<|endoftext|>';

/** The token that ends a turn in each template. */
const END_OF_TURN: Record<ChatTemplate, string> = { chatml: '<|im_end|>', llama3: '<|eot_id|>' };

/** Text → ids with every special-token text taken as plain text. */
const plainIds = (tokenizer: Tokenizer, text: string) =>
  Array.from(tokenizer.encode(text, { disallowedSpecial: [] }));

/** The format of a tokenizer: the first template whose special tokens it has, else plain. */
export function chatFormatOf(tokenizer: Tokenizer): ChatFormat {
  const specials = tokenizer.specialTokens;
  const endOfText = specials[END_OF_TEXT];
  const stops = (extra: string[]) => [
    ...extra.map((t) => specials[t]!),
    ...(endOfText === undefined ? [] : [endOfText]),
  ];
  const template = (Object.keys(CHAT_SPECIAL_TOKENS) as ChatTemplate[]).find((name) =>
    CHAT_SPECIAL_TOKENS[name].every((t) => t in specials),
  );
  if (!template)
    return {
      name: 'plain',
      encode: (messages) =>
        plainIds(
          tokenizer,
          `${messages.map((m) => `${m.role.toUpperCase()}:\n${m.content}\n\n`).join('')}ASSISTANT:\n`,
        ),
      stopTokenIds: stops([]),
      stopSequences: ['\n\n'],
    };
  return {
    name: template,
    encode: (messages) => encodeTemplate(tokenizer, template, messages),
    stopTokenIds: stops([END_OF_TURN[template]]),
    stopSequences: [],
  };
}

/**
 * Renders the template around placeholders that no message can contain (a random nonce), then
 * encodes the template's own text with its special tokens and each message's content as plain
 * text, so a user who types `<|im_end|>` cannot close their turn.
 */
function encodeTemplate(
  tokenizer: Tokenizer,
  template: ChatTemplate,
  messages: readonly ChatMessage[],
): number[] {
  const nonce = randomBytes(12).toString('hex');
  const placeholder = (i: number) => `\uE000${nonce}:${i}\uE001`;
  const rendered = applyChatTemplate(
    messages.map((m, i) => ({ role: m.role, content: placeholder(i) })),
    template,
    { addGenerationPrompt: true },
  );
  const specials = CHAT_SPECIAL_TOKENS[template];
  const ids: number[] = [];
  let text = ''; // plain text not yet encoded: template text and contents, merged
  const flush = () => {
    if (text) ids.push(...plainIds(tokenizer, text));
    text = '';
  };
  const parts = rendered.split(new RegExp(`\uE000${nonce}:(\\d+)\uE001`));
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      text += messages[Number(part)]!.content;
      return;
    }
    // Template text: its special tokens are control tokens, the rest plain text.
    for (const piece of part.split(new RegExp(`(${specials.map(escapeRegExp).join('|')})`))) {
      if (specials.includes(piece)) {
        flush();
        ids.push(tokenizer.specialId(piece));
      } else text += piece;
    }
  });
  flush();
  return ids;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
