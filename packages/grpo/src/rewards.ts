import { checkNumber } from '@tessera/rlhf';
import { checkOptions } from '@tessera/tensor-webgpu';
import { type OverlongOptions, overlongPenalty } from './overlong.js';

/**
 * A verifiable reward: scores one completion (the generated text after the prompt) against its
 * dataset example. Any function of this shape can be passed to `scoreCompletions`.
 */
export type RewardFunction<E = unknown> = (completion: string, example: E) => number;

/** Separators allowed between groups of three digits: comma, underscore, space, thin spaces. */
const THOUSANDS = /^\d{1,3}([,_ \u2009\u202f])\d{3}(?:\1\d{3})*(?:\.\d+)?$/;
const DECIMAL = /^(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The text of the last `<answer>…</answer>` in a completion, trimmed; `undefined` without one.
 */
export function extractAnswer(completion: string): string | undefined {
  let last: string | undefined;
  for (const match of completion.matchAll(/<answer>([\s\S]*?)<\/answer>/g)) last = match[1];
  return last?.trim();
}

/**
 * Reads a number written the ways answers are written, or `undefined` when the text is not one
 * number. Accepted: surrounding spaces; a sign `+`, `-` or `−` (U+2212), with spaces after it;
 * thousands separators — `,`, `_`, a space or a thin space, one kind per number, between groups
 * of exactly three digits (`1,234,567.5`; `1,23` is rejected, not read as a decimal comma);
 * a decimal point and an exponent (`2.5e3`); one trailing period (`42.`, the end of a sentence).
 * Not accepted: units, currency signs, words, fractions (`1/2`), LaTeX (`\boxed{4}`).
 */
export function parseNumber(text: string): number | undefined {
  const match = /^([+\-\u2212]?)\s*([\s\S]*)$/.exec(text.trim().replace(/\.$/, ''));
  if (!match) return undefined;
  const [, sign, written] = match as unknown as [string, string, string];
  const digits = THOUSANDS.test(written) ? written.replace(/[,_ \u2009\u202f]/g, '') : written;
  if (!DECIMAL.test(digits)) return undefined;
  const value = Number(digits);
  return sign === '-' || sign === '\u2212' ? -value : value;
}

/**
 * 1 when the number in the completion's last `<answer>…</answer>` equals `example.answer`, else
 * 0 (also when there is no answer tag or it holds no number). Both sides are read with
 * `parseNumber`, so `<answer> 1,234. </answer>` matches 1234 and `<answer>-7</answer>` matches
 * "−7"; equality is exact.
 *
 * @throws TypeError - `example.answer` is not a number nor a string `parseNumber` reads
 */
export function numericAnswerReward(
  completion: string,
  example: { answer: string | number },
): number {
  const wanted =
    typeof example?.answer === 'number' ? example.answer : parseNumber(String(example?.answer));
  if (wanted === undefined || !Number.isFinite(wanted))
    throw new TypeError(
      `numericAnswerReward: example.answer must be a number or a numeric string, got ${JSON.stringify(example?.answer)}`,
    );
  const text = extractAnswer(completion);
  return text !== undefined && parseNumber(text) === wanted ? 1 : 0;
}

/**
 * 1 when the completion is exactly `<think>…</think>` then `<answer>…</answer>` (whitespace
 * around and between the blocks allowed, one block of each, nothing after the answer), else 0.
 * TRL's `think_format_reward` checks the think block only; DeepSeek-R1's format reward asks
 * for both.
 */
export function formatReward(completion: string): number {
  const match = /^\s*<think>([\s\S]*?)<\/think>\s*<answer>([\s\S]*?)<\/answer>\s*$/.exec(
    completion,
  );
  if (!match) return 0;
  const [, think, answer] = match as unknown as [string, string, string];
  return /<\/?think>/.test(think) || /<\/?answer>|<\/?think>/.test(answer) ? 0 : 1;
}

export interface LengthPenaltyOptions extends OverlongOptions {
  /** The length of a completion, in the unit of maxLength. Default: characters (`text.length`); pass a tokenizer's count for tokens. */
  measure?: (completion: string) => number;
}

/**
 * A reward function that penalises long completions with DAPO's soft overlong punishment
 * (`overlongPenalty`): 0 up to maxLength − bufferLength, then linearly down to −1 at maxLength.
 */
export function lengthPenalty(options: LengthPenaltyOptions): RewardFunction {
  checkOptions('lengthPenalty', options, ['maxLength', 'bufferLength', 'measure']);
  const { measure = (text: string) => text.length, ...limits } = options;
  overlongPenalty(0, limits); // checks the limits now rather than at the first completion
  return (completion) => overlongPenalty(measure(completion), limits);
}

/** The rewards of a batch of completions. */
export interface Scores {
  /** Σ_k weight_k · reward_k per completion (TRL's weighted sum of reward functions). */
  rewards: Float64Array;
  /** Each function's rewards, for logging. */
  perFunction: Float64Array[];
}

/**
 * Scores completions with several reward functions and sums them with weights (default 1
 * each), as TRL `GRPOTrainer` combines `reward_funcs` with `reward_weights`.
 *
 * @param completions - the generated texts [B]
 * @param examples - the dataset example of each completion [B] (repeat a prompt's example for each of its completions)
 * @param functions - reward functions
 * @param weights - one weight per function; default all 1
 * @throws RangeError - mismatched lengths, or a function that returns a non-finite number
 */
export function scoreCompletions<E>(
  completions: readonly string[],
  examples: readonly E[],
  functions: readonly RewardFunction<E>[],
  weights: readonly number[] = functions.map(() => 1),
): Scores {
  const where = 'scoreCompletions';
  if (examples.length !== completions.length)
    throw new RangeError(
      `${where}: ${examples.length} examples for ${completions.length} completions`,
    );
  if (weights.length !== functions.length)
    throw new RangeError(
      `${where}: ${weights.length} weights for ${functions.length} reward functions`,
    );
  const rewards = new Float64Array(completions.length);
  const perFunction = functions.map((fn, k) => {
    const weight = checkNumber(where, `weights[${k}]`, weights[k]);
    const scores = new Float64Array(completions.length);
    completions.forEach((completion, i) => {
      const name = `reward function ${k} (${fn.name || 'anonymous'}) on completion ${i}`;
      scores[i] = checkNumber(where, name, fn(completion, examples[i]!));
      rewards[i]! += weight * scores[i]!;
    });
    return scores;
  });
  return { rewards, perFunction };
}
