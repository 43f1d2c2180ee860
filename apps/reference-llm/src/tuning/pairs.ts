import { type PreferencePair, preferenceBatch, type TokenBatch } from '@tessera/rlhf';
import type { ChatFormat } from './chat-format.js';
import { rowLength } from './examples.js';
import type { PreferenceExample } from './jsonl.js';

/** A preference pair as tokens: the prompt with each reply, completion masks on the replies. */
export function encodePair(chat: ChatFormat, p: PreferenceExample): PreferencePair {
  return {
    chosen: chat.encodeConversation([...p.prompt, ...p.chosen]),
    rejected: chat.encodeConversation([...p.prompt, ...p.rejected]),
  };
}

/** The batch of some pairs (chosen rows, then rejected rows), padded to its longest row (at most `window`). */
export function pairBatch(pairs: readonly PreferencePair[], window: number): TokenBatch {
  const lengths = pairs.flatMap((p) => [p.chosen.ids.length, p.rejected.ids.length]);
  return preferenceBatch(pairs, { length: rowLength(lengths, window) });
}

/** Pairs that do not fit the window: both replies would be cut, and could become the same. */
export function longPairs(pairs: readonly PreferencePair[], window: number): number {
  return pairs.filter((p) => Math.max(p.chosen.ids.length, p.rejected.ids.length) > window).length;
}
