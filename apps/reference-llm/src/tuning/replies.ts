import { type CausalLM, generateBatch } from '@tessera/sampler';
import type { ChatFormat } from './chat-format.js';
import type { ChatExample } from './jsonl.js';
import { finalAnswer } from './tasks.js';

/** One held-out question answered. */
export interface AnsweredQuestion {
  task: string;
  question: string;
  reference: string;
  reply: string;
  /** The reply ended with `<|im_end|>`, and ends with an `Answer:` line where the reference does. */
  formatted: boolean;
  /** Its answer is the reference's (the `Answer:` line, or the whole reply when the reference has none). */
  correct: boolean;
}

/** Task accuracy and format compliance on held-out questions, overall and per task. */
export interface ReplyScores {
  accuracy: number;
  format: number;
  byTask: Record<string, { questions: number; accuracy: number; format: number }>;
  answers: AnsweredQuestion[];
  /** Tokens generated. */
  tokens: number;
}

/**
 * Whether a reply is well formatted and correct against the reference reply. White space around
 * the reply does not count (the benchmark runner judges a reply trimmed).
 */
export function judgeReply(
  reply: string,
  ended: boolean,
  reference: string,
): { formatted: boolean; correct: boolean } {
  const want = finalAnswer(reference);
  if (want === undefined) return { formatted: ended, correct: reply.trim() === reference.trim() };
  const got = finalAnswer(reply.trim());
  return { formatted: ended && got !== undefined, correct: got === want };
}

/**
 * A held-out chat example answered: its task, its last user message as the question, its last
 * message as the reference, the reply, and `judgeReply`'s verdict (`ended`: the reply closed its
 * turn with `<|im_end|>`).
 */
export function answeredQuestion(e: ChatExample, reply: string, ended: boolean): AnsweredQuestion {
  const reference = e.messages.at(-1)!.content;
  return {
    task: e.task ?? 'all',
    question: [...e.messages].reverse().find((m) => m.role === 'user')?.content ?? '',
    reference,
    reply,
    ...judgeReply(reply, ended, reference),
  };
}

/**
 * Answers each held-out question greedily (batched decoding, `rows` at a time, stopping at
 * `<|im_end|>` or after `maxNewTokens`, fewer where the prompt leaves less of the model's window)
 * and scores the replies: accuracy (the final answer is right) and format compliance.
 */
export async function scoreReplies(
  model: CausalLM,
  chat: ChatFormat,
  examples: readonly ChatExample[],
  options: { maxNewTokens: number; rows?: number },
): Promise<ReplyScores> {
  const window = model.maxSequenceLength ?? Number.POSITIVE_INFINITY;
  const prompts = examples.map((e) => chat.promptIds(e.messages.slice(0, -1)));
  const budget = prompts.map((p) => Math.min(options.maxNewTokens, window - p.length));
  const usable = prompts.map((_, i) => i).filter((i) => budget[i]! >= 1);
  const generated = await generateBatch(
    model,
    usable.map((i) => prompts[i]!),
    usable.map((i) => ({ maxNewTokens: budget[i]!, temperature: 0, stopTokenIds: [chat.endId] })),
    { rows: Math.min(options.rows ?? 64, Math.max(usable.length, 1)) },
  );
  const replies = new Map(usable.map((i, k) => [i, generated[k]!]));
  const answers = examples.map((e, i) => {
    const ids = replies.get(i) ?? [];
    return answeredQuestion(e, chat.replyText(ids), ids.includes(chat.endId));
  });
  const share = (xs: AnsweredQuestion[], key: 'formatted' | 'correct') =>
    xs.length === 0 ? 0 : xs.filter((a) => a[key]).length / xs.length;
  const byTask: ReplyScores['byTask'] = {};
  for (const task of new Set(answers.map((a) => a.task))) {
    const of = answers.filter((a) => a.task === task);
    byTask[task] = {
      questions: of.length,
      accuracy: share(of, 'correct'),
      format: share(of, 'formatted'),
    };
  }
  return {
    accuracy: share(answers, 'correct'),
    format: share(answers, 'formatted'),
    byTask,
    answers,
    tokens: generated.reduce((n, g) => n + g.length, 0),
  };
}
