import type { ChatMessage } from '@tessera/tokenizer';
import { PRESETS } from '../presets.js';
import { formatToolResult } from '../serve/tools.js';

/** A model's window, in its own tokens: what the agent fits the conversation into. */
export interface ConversationWindow {
  /** The model's context length, in tokens. */
  readonly size: number;
  /** Tokens kept free for each reply (`--max-new-tokens`). */
  readonly replyTokens: number;
  /** Tokens of a conversation as the model reads it: its chat format, up to where the reply begins. */
  tokens(messages: readonly ChatMessage[]): number;
}

/** One step of the conversation after the question: the model's reply and what its calls returned. */
export interface Exchange {
  reply: string;
  observations: string[];
}

/** What the model read at a step, and what was left out of the conversation to fit its window. */
export interface WindowFit {
  /** Tokens of the conversation the model read. */
  tokens: number;
  /** Tokens the conversation may take: the window less the reply's. */
  budget: number;
  /** Steps left out whole (reply and observations): the first this many. */
  stepsLeftOut: number;
  /** Steps whose observations were replaced by {@link OBSERVATION_LEFT_OUT}: the first this many. */
  observationsLeftOut: number;
  /** Whether the newest step's reply was left out (its observations kept). */
  replyLeftOut: boolean;
  /** Characters of the newest step's observations kept, of how many, when they were cut. */
  cut?: { kept: number; of: number };
}

/** What the model reads in place of an observation left out. */
export const OBSERVATION_LEFT_OUT = '(left out to fit the window)';

/** What ends an observation cut to fit. */
export const OBSERVATION_CUT = '…(cut)';

/** What {@link renderConversation} leaves out of a conversation. */
export interface Leave {
  /** The first this many steps, whole. */
  steps: number;
  /** The observations of the first this many steps, each replaced by {@link OBSERVATION_LEFT_OUT}. */
  observations: number;
  /** The newest step's reply. */
  newestReply: boolean;
  /** Characters of the newest step's observations kept, in order (all when undefined). */
  keep?: number;
}

const NOTHING: Leave = { steps: 0, observations: 0, newestReply: false };

/**
 * The conversation as chat messages: the system message and the question, then each step's
 * reply as an `assistant` message and each observation as a `tool` message (`formatToolResult`),
 * less what `leave` leaves out (default nothing).
 */
export function renderConversation(
  head: readonly ChatMessage[],
  exchanges: readonly Exchange[],
  leave: Leave = NOTHING,
): ChatMessage[] {
  const messages = [...head];
  exchanges.forEach((e, i) => {
    if (i < leave.steps) return;
    const newest = i === exchanges.length - 1;
    if (!(newest && leave.newestReply)) messages.push({ role: 'assistant', content: e.reply });
    let left = newest ? (leave.keep ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
    for (const observation of e.observations) {
      let content = observation;
      if (i < leave.observations) content = OBSERVATION_LEFT_OUT;
      else if (observation.length > left)
        content = `${observation.slice(0, left)}${OBSERVATION_CUT}`;
      left = Math.max(0, left - observation.length);
      messages.push({ role: 'tool', content: formatToolResult(content) });
    }
  });
  return messages;
}

/**
 * Refuses a prompt that does not fit: the system message (instructions and tools) and the
 * question must leave the reply's tokens free in the window, or the model would lose the
 * conversation's oldest tokens — its instructions — or have no room to answer.
 *
 * @param head - the system message, then the question
 * @throws RangeError - `replyTokens` leaves no room, or the prompt is too long: the message gives
 *   the instructions' and the question's tokens, the budget, and the window the prompt needs
 *   with the presets' windows that hold it
 */
export function checkAgentPrompt(head: readonly ChatMessage[], window: ConversationWindow): void {
  const { size, replyTokens } = window;
  const budget = size - replyTokens;
  if (budget < 1)
    throw new RangeError(
      `--max-new-tokens ${replyTokens} leaves no room for a prompt in the model's ${size}-token window`,
    );
  const instructions = window.tokens(head.slice(0, 1));
  const total = window.tokens(head);
  if (total <= budget) return;
  const needed = total + replyTokens;
  const shorterReply = total < size ? `, or --max-new-tokens ${size - total} or less` : '';
  throw new RangeError(
    `the agent's instructions and tools take ${instructions} tokens and the question ${total - instructions} more, ${total} in all: over the ${budget} that the model's ${size}-token window leaves beside --max-new-tokens ${replyTokens}. The agent needs a window of at least ${needed} tokens: ${presetsHolding(needed)}${shorterReply}`,
  );
}

/** The presets whose window holds `tokens`, as advice. */
function presetsHolding(tokens: number): string {
  const presets = Object.values(PRESETS).sort((a, b) => a.model.maxSeqLen - b.model.maxSeqLen);
  const smallest = presets.find((p) => p.model.maxSeqLen >= tokens);
  if (smallest)
    return `a model of the ${smallest.name} preset (${smallest.model.maxSeqLen} tokens) or larger`;
  const largest = presets.at(-1)!;
  return `more than the largest preset's (${largest.name}, ${largest.model.maxSeqLen} tokens), so ask a shorter question`;
}

/**
 * The conversation as it fits the window beside the reply's tokens. While it does not fit, in
 * this order: the oldest steps' observations give way to {@link OBSERVATION_LEFT_OUT} (the
 * model still reads its calls), then the oldest steps go whole, never the newest; then the
 * newest step's observations are cut from their end (the search tool lists its best passage
 * first), marked {@link OBSERVATION_CUT}; and if even none of their text fits beside the newest
 * reply, that reply goes too and they are cut again. The fit says what was left out.
 *
 * @param head - the system message and the question, which must fit (`checkAgentPrompt`)
 * @throws RangeError - not even the newest observations' wrappers fit beside the head (the
 *   message gives the counts)
 */
export function fitConversation(
  head: readonly ChatMessage[],
  exchanges: readonly Exchange[],
  window: ConversationWindow,
): { messages: ChatMessage[]; fit: WindowFit } {
  const budget = window.size - window.replyTokens;
  const last = exchanges.length - 1;
  const leave: Leave = { ...NOTHING };
  const measure = () => window.tokens(renderConversation(head, exchanges, leave));
  let tokens = measure();
  while (tokens > budget && leave.observations < last) {
    leave.observations++;
    tokens = measure();
  }
  while (tokens > budget && leave.steps < last) {
    leave.steps++;
    tokens = measure();
  }
  let cut: WindowFit['cut'];
  if (tokens > budget && last >= 0) {
    const total = exchanges[last]!.observations.reduce((n, o) => n + o.length, 0);
    for (const newestReply of [false, true]) {
      leave.newestReply = newestReply;
      leave.keep = 0;
      if (measure() > budget) continue;
      // The most characters that fit (none do); tokens grow with the characters kept.
      let [lo, hi] = [0, total];
      while (lo < hi) {
        leave.keep = Math.ceil((lo + hi) / 2);
        if (measure() <= budget) lo = leave.keep;
        else hi = leave.keep - 1;
      }
      leave.keep = lo < total ? lo : undefined;
      if (lo < total) cut = { kept: lo, of: total };
      break;
    }
    tokens = measure();
    if (tokens > budget)
      throw new RangeError(
        `the conversation takes ${tokens} tokens with every earlier step, the newest reply and the text of its observations left out: over the ${budget} that the model's ${window.size}-token window leaves beside --max-new-tokens ${window.replyTokens}`,
      );
  }
  const fit: WindowFit = {
    tokens,
    budget,
    stepsLeftOut: leave.steps,
    observationsLeftOut: leave.observations,
    replyLeftOut: leave.newestReply,
    ...(cut ? { cut } : {}),
  };
  return { messages: renderConversation(head, exchanges, leave), fit };
}

/**
 * What was left out of the conversation at step `step` (from 1; the steps before it are the
 * ones fitted), in words, or '' when nothing was.
 */
export function describeFit(fit: WindowFit, step: number): string {
  const steps = (from: number, to: number) =>
    from === to ? `step ${from}` : `steps ${from}-${to}`;
  const parts: string[] = [];
  if (fit.stepsLeftOut > 0) parts.push(`${steps(1, fit.stepsLeftOut)} left out`);
  if (fit.observationsLeftOut > fit.stepsLeftOut)
    parts.push(
      `the observations of ${steps(fit.stepsLeftOut + 1, fit.observationsLeftOut)} left out`,
    );
  if (fit.replyLeftOut) parts.push(`the reply of step ${step - 1} left out`);
  if (fit.cut)
    parts.push(
      `the observations of step ${step - 1} cut to their first ${fit.cut.kept} of ${fit.cut.of} characters`,
    );
  if (parts.length === 0) return '';
  return `to fit the model's window (${fit.tokens} of the ${fit.budget} tokens it leaves beside the reply): ${parts.join('; ')}`;
}
