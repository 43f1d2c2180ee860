/**
 * LLM-as-a-judge over any chat model. Prompts ask for the rationale before the verdict (so the
 * verdict is conditioned on the reasoning), verdicts are parsed strictly, pairwise comparisons run
 * in both orders to expose position bias, and a length statistic exposes verbosity bias.
 */

import { lengthControlledWinRate } from './length-controlled.js';
import { mapLimit } from './map-limit.js';
import { checkOptions } from './options.js';

/**
 * One message of a conversation: an exact copy of `@tessera/tokenizer`'s `ChatMessage`, which owns
 * the shape, kept here because `@tessera/eval` installs with no dependencies. `judge.test.ts`
 * fails to typecheck if the two ever differ.
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | (string & {});
  content: string;
}

/** Any model that maps messages to text; `id` names it for the self-enhancement check. */
export interface ChatModel {
  id: string;
  chat(messages: ChatMessage[]): Promise<string> | string;
}

/** The judge's output could not be read as a verdict. */
export class VerdictParseError extends Error {
  constructor(
    readonly expected: string,
    readonly output: string,
  ) {
    const excerpt = output.length > 200 ? `…${output.slice(-200)}` : output;
    super(`judge: expected a final line "${expected}", got ${JSON.stringify(excerpt)}`);
    this.name = 'VerdictParseError';
  }
}

export type JudgeScale = 'pass-fail' | '1-5';

export interface JudgeInput {
  question: string;
  answer: string;
  /** What a good answer must do, e.g. "correct, cites the passage, under 50 words". */
  criteria: string;
  scale?: JudgeScale;
  /** The model that wrote the answer; a judge grading its own model gets a warning. */
  candidateModelId?: string;
}

const JUDGE_INPUT_KEYS = ['question', 'answer', 'criteria', 'scale', 'candidateModelId'];

export interface JudgeResult {
  /** true/false on the pass-fail scale; 1–5 on the other. */
  verdict: boolean | number;
  rationale: string;
  warnings: string[];
}

const VERDICT_LINE = {
  'pass-fail': 'VERDICT: PASS or VERDICT: FAIL',
  '1-5': 'SCORE: <1-5>',
} as const;

/** The messages sent to the judge for one answer. */
export function judgeMessages(input: JudgeInput): ChatMessage[] {
  checkOptions('judgeMessages', input, JUDGE_INPUT_KEYS);
  const scale = input.scale ?? 'pass-fail';
  return [
    {
      role: 'system',
      content:
        'You are a strict evaluator. First explain your reasoning against the criteria, then give ' +
        `your verdict on a final line of the form "${VERDICT_LINE[scale]}".`,
    },
    {
      role: 'user',
      content: `Criteria: ${input.criteria}\n\nQuestion: ${input.question}\n\nAnswer: ${input.answer}`,
    },
  ];
}

/** The rationale (everything before the verdict line) and the last verdict line's value. */
function lastMatch(
  output: string,
  pattern: RegExp,
): { value: string; rationale: string } | undefined {
  const matches = [...output.matchAll(pattern)];
  const m = matches.at(-1);
  if (!m) return undefined;
  return { value: m[1]!.toUpperCase(), rationale: output.slice(0, m.index).trim() };
}

/** Read a verdict; unparseable or out-of-range output throws {@link VerdictParseError}. */
export function parseVerdict(
  output: string,
  scale: JudgeScale = 'pass-fail',
): { verdict: boolean | number; rationale: string } {
  if (scale === 'pass-fail') {
    const m = lastMatch(output, /^\s*\**verdict\**\s*:\s*\**\s*(pass|fail)\b/gim);
    if (!m) throw new VerdictParseError(VERDICT_LINE[scale], output);
    return { verdict: m.value === 'PASS', rationale: m.rationale };
  }
  const m = lastMatch(output, /^\s*\**score\**\s*:\s*\**\s*(\d+)\b/gim);
  const score = m ? Number(m.value) : Number.NaN;
  if (!m || score < 1 || score > 5) throw new VerdictParseError(VERDICT_LINE[scale], output);
  return { verdict: score, rationale: m.rationale };
}

function selfWarning(judgeId: string, candidateIds: (string | undefined)[]): string[] {
  return candidateIds.includes(judgeId)
    ? [
        `self-enhancement: the judge "${judgeId}" is also a candidate model; prefer an independent judge`,
      ]
    : [];
}

/** Grade one answer against criteria. */
export async function judge(model: ChatModel, input: JudgeInput): Promise<JudgeResult> {
  checkOptions('judge', input, JUDGE_INPUT_KEYS);
  const output = await model.chat(judgeMessages(input));
  const { verdict, rationale } = parseVerdict(output, input.scale ?? 'pass-fail');
  return { verdict, rationale, warnings: selfWarning(model.id, [input.candidateModelId]) };
}

export interface PairwiseItem {
  question: string;
  answerA: string;
  answerB: string;
}

export interface PairwiseOptions {
  criteria: string;
  /** The models that wrote answers A and B, for the self-enhancement check. */
  modelA?: string;
  modelB?: string;
  /**
   * Items judged at once (default 1: one after another); an item's two orders are always asked
   * one after the other. A judge reached over a network or a job queue can take many; the report
   * is the same at any value.
   */
  concurrency?: number;
}

export type PairwiseWinner = 'A' | 'B' | 'tie' | 'inconsistent';

export interface PairwiseReport {
  /** Per item: the winner both orders agree on, or 'inconsistent'. */
  winners: PairwiseWinner[];
  /** Fraction of items whose two orders disagree. */
  positionDisagreement: number;
  /** Fraction of decisive single-order verdicts that chose whichever answer was shown first. */
  firstPositionRate: number;
  /** Among consistent decisive verdicts between answers of different length, how often the longer won (0.5: no bias). */
  longerWinRate: number;
  /** How many verdicts `longerWinRate` is based on. */
  lengthComparisons: number;
  winRateA: number;
  /**
   * A's win rate with the length difference regressed out (`lengthControlledWinRate`, after
   * AlpacaEval 2.0; ties and inconsistent items count 0.5): what is left when verbosity bias is
   * taken out.
   */
  lengthControlledWinRateA: number;
  warnings: string[];
}

function pairMessages(
  criteria: string,
  question: string,
  first: string,
  second: string,
): ChatMessage[] {
  return [
    {
      role: 'system',
      content:
        'You compare two answers. First explain your reasoning against the criteria, then give a ' +
        'final line of the form "WINNER: 1", "WINNER: 2" or "WINNER: TIE".',
    },
    {
      role: 'user',
      content: `Criteria: ${criteria}\n\nQuestion: ${question}\n\nAnswer 1: ${first}\n\nAnswer 2: ${second}`,
    },
  ];
}

function parseWinner(output: string): '1' | '2' | 'TIE' {
  const m = lastMatch(output, /^\s*\**winner\**\s*:\s*\**\s*(1|2|tie)\b/gim);
  if (!m) throw new VerdictParseError('WINNER: 1, WINNER: 2 or WINNER: TIE', output);
  return m.value as '1' | '2' | 'TIE';
}

/**
 * Compare answer pairs in both orders (A first, then B first). An item's winner counts only when
 * both orders agree; the report measures position and verbosity bias.
 */
export async function comparePairwise(
  model: ChatModel,
  items: readonly PairwiseItem[],
  options: PairwiseOptions,
): Promise<PairwiseReport> {
  checkOptions('comparePairwise', options, ['criteria', 'modelA', 'modelB', 'concurrency']);
  const verdicts = await mapLimit(
    'comparePairwise',
    items,
    options.concurrency ?? 1,
    async (item) => {
      const ab = parseWinner(
        await model.chat(pairMessages(options.criteria, item.question, item.answerA, item.answerB)),
      );
      const ba = parseWinner(
        await model.chat(pairMessages(options.criteria, item.question, item.answerB, item.answerA)),
      );
      return [ab, ba] as const;
    },
  );
  const winners: PairwiseWinner[] = [];
  let decisive = 0;
  let firstChosen = 0;
  let longerWins = 0;
  let lengthComparisons = 0;
  for (const [i, [ab, ba]] of verdicts.entries()) {
    const item = items[i]!;
    for (const w of [ab, ba]) {
      if (w === 'TIE') continue;
      decisive++;
      if (w === '1') firstChosen++;
    }
    const fromAB = ab === '1' ? 'A' : ab === '2' ? 'B' : 'tie';
    const fromBA = ba === '1' ? 'B' : ba === '2' ? 'A' : 'tie';
    const winner: PairwiseWinner = fromAB === fromBA ? fromAB : 'inconsistent';
    winners.push(winner);
    if ((winner === 'A' || winner === 'B') && item.answerA.length !== item.answerB.length) {
      lengthComparisons++;
      const longer = item.answerA.length > item.answerB.length ? 'A' : 'B';
      if (winner === longer) longerWins++;
    }
  }
  const n = items.length;
  const ratio = (a: number, b: number) => (b === 0 ? Number.NaN : a / b);
  return {
    winners,
    positionDisagreement: ratio(winners.filter((w) => w === 'inconsistent').length, n),
    firstPositionRate: ratio(firstChosen, decisive),
    longerWinRate: ratio(longerWins, lengthComparisons),
    lengthComparisons,
    winRateA: ratio(winners.filter((w) => w === 'A').length, n),
    lengthControlledWinRateA:
      n === 0
        ? Number.NaN
        : lengthControlledWinRate(
            winners.map((w, i) => ({
              score: w === 'A' ? 1 : w === 'B' ? 0 : 0.5,
              lengthA: items[i]!.answerA.length,
              lengthB: items[i]!.answerB.length,
            })),
          ).winRate,
    warnings: selfWarning(model.id, [options.modelA, options.modelB]),
  };
}
