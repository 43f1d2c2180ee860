import { type GenerateOptions, generate } from '@tessera/sampler';
import type { ChatMessage } from '@tessera/tokenizer';
import type { DecoderLM } from '@tessera/transformer';
import type { ChatFormat } from './chat-format.js';

/** Sampling settings of a chat: temperature, top-k/p, min-p, seed, reply length. */
export type ChatSampling = Pick<
  GenerateOptions,
  'temperature' | 'topK' | 'topP' | 'minP' | 'seed' | 'maxNewTokens'
>;

/**
 * A conversation with a tuned model: the messages so far, each reply generated from the whole
 * conversation in ChatML and streamed piece by piece (whole characters only) until `<|im_end|>`.
 * When the conversation no longer leaves room for a reply in the model's window, the oldest
 * turns are dropped (a system message stays).
 */
export class ChatSession {
  readonly messages: ChatMessage[] = [];
  private turn = 0;

  constructor(
    readonly model: DecoderLM,
    readonly chat: ChatFormat,
    readonly sampling: ChatSampling = {},
    readonly system?: string,
  ) {
    this.reset();
  }

  /** Forgets the conversation (keeps the system message). */
  reset(): void {
    this.messages.length = 0;
    if (this.system) this.messages.push({ role: 'system', content: this.system });
  }

  /**
   * Adds the user's message, streams the reply to `onText` and returns it (without
   * `<|im_end|>`). Returns how many old messages were dropped to make room, too.
   */
  async reply(
    text: string,
    onText: (piece: string) => void,
  ): Promise<{ reply: string; dropped: number }> {
    this.messages.push({ role: 'user', content: text });
    const maxNew = this.sampling.maxNewTokens ?? 64;
    const window = this.model.maxSequenceLength;
    let dropped = 0;
    let prompt = this.chat.promptIds(this.messages);
    const first = this.messages[0]?.role === 'system' ? 1 : 0;
    while (prompt.length + Math.min(maxNew, 8) > window && this.messages.length - first > 1) {
      this.messages.splice(first, 1);
      dropped++;
      prompt = this.chat.promptIds(this.messages);
    }
    const room = Math.max(1, Math.min(maxNew, window - prompt.length));
    const stream = this.chat.tokenizer.streamDecoder();
    const ids: number[] = [];
    for await (const id of generate(this.model, prompt, {
      ...this.sampling,
      seed: (this.sampling.seed ?? 0) + this.turn,
      maxNewTokens: room,
      stopTokenIds: [this.chat.endId],
    })) {
      if (id === this.chat.endId) break;
      ids.push(id);
      onText(stream.push(id));
    }
    onText(stream.end());
    this.turn++;
    const reply = this.chat.replyText(ids);
    this.messages.push({ role: 'assistant', content: reply });
    return { reply, dropped };
  }
}
