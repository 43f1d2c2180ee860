import { parseNumber } from '@tessera/grpo';
import { Rng } from '@tessera/tensor-webgpu';
import type { SplitSizes, Splits } from './datasets.js';
import type { ChatExample } from './jsonl.js';
import { finalAnswer } from './tasks.js';

/** The files a `grpo` run writes its generated problems to (`DIR/data/`). */
export const ARITHMETIC_FILES = {
  train: 'arithmetic-train.jsonl',
  heldout: 'arithmetic-heldout.jsonl',
} as const;

/** The task name of the problems (`ChatExample.task`, the `tasks` command's row). */
export const ARITHMETIC_TASK = 'multistep-arithmetic';

/** The token that ends a reply in the decoded completions the rewards read. */
const END = '<|im_end|>';

/**
 * One multi-step problem: two or three one-digit numbers joined by `+` and `−` (no intermediate
 * result below zero), e.g. `What is 7 - 3 + 5?`, with the worked reply the SFT replies' format
 * extends — one line per step, then `Answer: …` (`7 - 3 = 4`, `4 + 5 = 9`, `Answer: 9`). Harder
 * than SFT's `add` task in kind (subtraction, chained steps), not in the size of the numbers.
 */
export function arithmeticProblem(rng: Rng): { question: string; reply: string; answer: number } {
  const digit = () => 1 + Math.floor(rng.next() * 9);
  const operands = 2 + Math.floor(rng.next() * 2);
  let value = digit();
  let expression = String(value);
  const lines: string[] = [];
  for (let k = 1; k < operands; k++) {
    const n = digit();
    const minus = n <= value && rng.next() < 0.5;
    const next = minus ? value - n : value + n;
    lines.push(`${value} ${minus ? '-' : '+'} ${n} = ${next}`);
    expression += ` ${minus ? '-' : '+'} ${n}`;
    value = next;
  }
  return {
    question: `What is ${expression}?`,
    reply: `${lines.join('\n')}\nAnswer: ${value}`,
    answer: value,
  };
}

/**
 * The `grpo` stage's problems from `seed`: the held-out split first, then the training split, no
 * question in both (a question is never repeated). Each example is a chat (`{"messages": …}`),
 * the reference reply last, tagged with the task `multistep-arithmetic`.
 *
 * @throws RangeError - more problems asked than there are distinct questions
 */
export function arithmeticData(seed: number, sizes: SplitSizes): Splits<ChatExample> {
  const rng = new Rng(seed * 7_919 + 17);
  const seen = new Set<string>();
  const next = (): ChatExample => {
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const p = arithmeticProblem(rng);
      if (seen.has(p.question)) continue;
      seen.add(p.question);
      return {
        messages: [
          { role: 'user', content: p.question },
          { role: 'assistant', content: p.reply },
        ],
        task: ARITHMETIC_TASK,
      };
    }
    throw new RangeError(
      `arithmeticData: ${sizes.heldout + sizes.train} problems asked; only ${seen.size} distinct questions were found`,
    );
  };
  const heldout = Array.from({ length: sizes.heldout }, next);
  return { heldout, train: Array.from({ length: sizes.train }, next) };
}

/** What the rewards compare a completion with: the reference reply of its question. */
export interface ReferenceReply {
  reference: string;
}

/** The number of a reply's final `Answer:` line (the reply cut at `<|im_end|>`), if it is one. */
function answerOf(reply: string): number | undefined {
  const text = finalAnswer(reply.split(END)[0]!);
  return text === undefined ? undefined : parseNumber(text);
}

/**
 * The verifiable reward: 1 when the completion's final `Answer:` line holds the reference's
 * number (read by `@tessera/grpo`'s `parseNumber`), else 0. The completion is the decoded reply,
 * `<|im_end|>` included when the model ended it.
 */
export function answerReward(completion: string, example: ReferenceReply): number {
  const want = answerOf(example.reference);
  if (want === undefined)
    throw new TypeError(
      `answerReward: the reference reply ${JSON.stringify(example.reference)} has no numeric "Answer:" line`,
    );
  return answerOf(completion) === want ? 1 : 0;
}

/** The format reward: 1 when the reply ends with an `Answer:` line and then `<|im_end|>`, else 0. */
export function formatReward(completion: string): number {
  return completion.endsWith(END) && finalAnswer(completion.slice(0, -END.length)) !== undefined
    ? 1
    : 0;
}
