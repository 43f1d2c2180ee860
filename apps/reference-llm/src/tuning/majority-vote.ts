import { sampleGroups } from '@tessera/grpo';
import type { DecoderLM } from '@tessera/transformer';
import type { ChatFormat } from './chat-format.js';
import type { ChatExample } from './jsonl.js';
import { finalAnswer } from './tasks.js';

/**
 * The most frequent answer of a list (`undefined` entries, replies without an answer, do not
 * vote); a tie goes to the answer that reached the top count first. `undefined` when none voted.
 */
export function majorityAnswer(answers: readonly (string | undefined)[]): string | undefined {
  const counts = new Map<string, number>();
  let best: string | undefined;
  let top = 0;
  for (const a of answers) {
    if (a === undefined) continue;
    const n = (counts.get(a) ?? 0) + 1;
    counts.set(a, n);
    if (n > top) [best, top] = [a, n];
  }
  return best;
}

/** Held-out accuracy with majority voting over k sampled replies, for each k asked. */
export interface VoteAccuracy {
  /** k → share of questions whose majority answer of the first k samples is the reference's. */
  accuracy: Record<number, number>;
  /** Each question's sampled final answers (`null`: no answer line), in sampling order. */
  answers: (string | null)[][];
  /** Tokens generated. */
  tokens: number;
}

/**
 * Test-time compute by self-consistency (Wang et al. 2023, "Self-Consistency Improves Chain of
 * Thought Reasoning"): samples max(k) replies per held-out question at `temperature` with the
 * same group sampling GRPO trains with (`sampleGroups`), reads each reply's final `Answer:` line,
 * and scores the majority answer of the first k samples against the reference's, for each k.
 *
 * @throws RangeError - no k, a k below 1, or a question that leaves no room for a reply in the window
 */
export async function majorityVoteAccuracy(
  model: DecoderLM,
  chat: ChatFormat,
  questions: readonly ChatExample[],
  o: { samples: readonly number[]; maxNewTokens: number; temperature: number; seed: number },
): Promise<VoteAccuracy> {
  const most = Math.max(...o.samples);
  if (o.samples.length === 0 || o.samples.some((k) => !Number.isInteger(k) || k < 1))
    throw new RangeError(
      `majorityVoteAccuracy: samples must be integers >= 1, got ${JSON.stringify(o.samples)}`,
    );
  const wanted = questions.map((q, i) => {
    const want = finalAnswer(q.messages.at(-1)!.content);
    if (want === undefined)
      throw new RangeError(
        `majorityVoteAccuracy: question ${i}'s reference reply has no "Answer:" line to vote against`,
      );
    return want;
  });
  const prompts = questions.map((q) => chat.promptIds(q.messages.slice(0, -1)));
  const room = Math.min(...prompts.map((p) => model.config.maxSeqLen - p.length));
  if (room < 1)
    throw new RangeError(
      'majorityVoteAccuracy: a question fills the model’s window; no room to answer',
    );
  const groupSize = Math.max(most, 2); // sampleGroups draws at least 2; only the first k vote
  const completions = await sampleGroups(model, prompts, {
    groupSize,
    maxNewTokens: Math.min(o.maxNewTokens, room),
    temperature: o.temperature,
    stopTokenIds: [chat.endId],
    seed: o.seed,
    rows: Math.min(prompts.length * groupSize, 256),
  });
  const answers = questions.map((_, q) =>
    completions
      .slice(q * groupSize, q * groupSize + most)
      .map((ids) => finalAnswer(chat.replyText(ids)) ?? null),
  );
  const accuracy: Record<number, number> = {};
  for (const k of o.samples) {
    const right = wanted.filter(
      (want, i) => majorityAnswer(answers[i]!.slice(0, k).map((a) => a ?? undefined)) === want,
    ).length;
    accuracy[k] = right / questions.length;
  }
  return { accuracy, answers, tokens: completions.reduce((n, c) => n + c.length, 0) };
}
