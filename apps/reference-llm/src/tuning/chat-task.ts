import {
  type GenerationTask,
  type LanguageModel,
  runBenchmark,
  type TaskResult,
  truncateAtStop,
} from '@tessera/eval';
import { type ChatFormat, IM_END } from './chat-format.js';
import type { ChatExample } from './jsonl.js';
import { type AnsweredQuestion, answeredQuestion, judgeReply } from './replies.js';

/**
 * Held-out chat questions as a generation task of the benchmark runner: a doc's prompt is the
 * conversation before its reference reply as ChatML text, up to where the reply begins
 * (`ChatFormat.promptText`, the prompt the tuned stages were trained to answer); its target is
 * the reference reply. A reply ends at `<|im_end|>` or after `maxTokens`, and scores 1 when
 * `judgeReply` finds it correct (its final `Answer:` line is the reference's, or the whole reply
 * is, where the reference has no `Answer:` line).
 */
export function chatTask(
  name: string,
  examples: readonly ChatExample[],
  chat: ChatFormat,
  maxTokens: number,
): GenerationTask {
  return {
    name,
    kind: 'generation',
    docs: examples.map((e) => ({
      prompt: chat.promptText(e.messages.slice(0, -1)),
      targets: [e.messages.at(-1)!.content],
    })),
    stop: [IM_END],
    maxTokens,
    metric: (prediction, [reference]) => Number(judgeReply(prediction, true, reference!).correct),
  };
}

/** A chat task's benchmark row, and every question answered. */
export interface ChatTaskResult {
  /** 0-shot; metrics `accuracy` (the runner's score) and `format` (compliance), 0–1. */
  result: TaskResult;
  /** In the examples' order. */
  answers: AnsweredQuestion[];
}

/**
 * Answers held-out chat questions through `@tessera/eval`'s benchmark runner (`chatTask`,
 * 0-shot, every doc asked at once, so that `chatLanguageModel` decodes them together) and
 * scores them: `accuracy` is the runner's score; `format` is `judgeReply`'s format compliance of
 * the same replies, read from the runner's per-doc results (the reply ended with `<|im_end|>`,
 * and ends with an `Answer:` line where the reference does). `lm` returns a reply with its
 * `<|im_end|>` when it ended there, as `chatLanguageModel` does.
 *
 * @throws RangeError - no examples (the runner's error)
 */
export async function runChatTask(
  lm: LanguageModel,
  chat: ChatFormat,
  name: string,
  examples: readonly ChatExample[],
  maxTokens: number,
): Promise<ChatTaskResult> {
  const responses: string[] = [];
  const report = await runBenchmark(lm, [chatTask(name, examples, chat, maxTokens)], {
    concurrency: Math.max(examples.length, 1),
    onDoc: (_task, doc) => {
      responses[doc.index] = doc.response!;
    },
  });
  const answers = examples.map((e, i) =>
    answeredQuestion(e, truncateAtStop(responses[i]!, [IM_END]), responses[i]!.includes(IM_END)),
  );
  const result = report.results[0]!;
  const format = answers.filter((a) => a.formatted).length / answers.length;
  return {
    result: { ...result, metrics: { accuracy: result.metrics.score!, format } },
    answers,
  };
}
