import { checkOptions } from './options.js';

/**
 * One message of a conversation, the shape SFT data (`{"messages": [...]}`), the app's chat and
 * server, and eval's judge (an exact copy, type-tested) share. Owned here; keep the names and
 * shape stable.
 */
export interface ChatMessage {
  /** Who speaks: the four usual roles autocomplete, any other string is allowed. */
  role: 'system' | 'user' | 'assistant' | 'tool' | (string & {});
  /** The message text, without template tokens. */
  content: string;
}

export type ChatTemplate = 'chatml' | 'llama3';

/** Special tokens each template needs in the vocabulary. */
export const CHAT_SPECIAL_TOKENS: Record<ChatTemplate, readonly string[]> = {
  chatml: ['<|im_start|>', '<|im_end|>'],
  llama3: ['<|begin_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'],
};

/**
 * Formats a conversation as text with a template's special tokens; encode the result with
 * `allowedSpecial: 'all'`. With `addGenerationPrompt` the text ends where the assistant's reply
 * begins (what SFT masks and generation continues from).
 * - `chatml`: `<|im_start|>role\ncontent<|im_end|>\n` per message (Qwen, many others).
 * - `llama3`: `<|begin_of_text|>` then `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>`.
 */
export function applyChatTemplate(
  messages: readonly ChatMessage[],
  template: ChatTemplate,
  options: { addGenerationPrompt?: boolean } = {},
): string {
  checkOptions('applyChatTemplate', options, ['addGenerationPrompt']);
  for (const [i, m] of messages.entries()) {
    if (typeof m?.role !== 'string' || typeof m.content !== 'string')
      throw new TypeError(`applyChatTemplate: message ${i} needs string role and content`);
  }
  if (template === 'chatml') {
    const body = messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join('');
    return options.addGenerationPrompt ? `${body}<|im_start|>assistant\n` : body;
  }
  if (template === 'llama3') {
    const header = (role: string) => `<|start_header_id|>${role}<|end_header_id|>\n\n`;
    const body = `<|begin_of_text|>${messages.map((m) => `${header(m.role)}${m.content}<|eot_id|>`).join('')}`;
    return options.addGenerationPrompt ? `${body}${header('assistant')}` : body;
  }
  throw new TypeError(
    `applyChatTemplate: template must be 'chatml' or 'llama3', got ${JSON.stringify(template)}`,
  );
}
