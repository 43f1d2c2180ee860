import {
  type ChatMessage,
  type ChatModel,
  comparePairwise,
  type PairwiseReport,
} from '@tessera/eval';
import type { StageAnswer } from './evaluation.js';

/** An OpenAI-compatible endpoint as the judge: its base URL and the model it serves. */
export interface JudgeEndpoint {
  /** Base URL, e.g. `http://127.0.0.1:8000` (the project's `serve`, or any other). */
  url: string;
  /** The model's name at that endpoint; default the first of `GET /v1/models`. */
  model?: string;
}

/** The criteria every comparison is judged on. */
export const JUDGE_CRITERIA =
  'the answer is correct, follows the format asked for (a final "Answer:" line where one is asked), and is no longer than it needs to be';

/** Held-out questions each comparison judges, at most. */
export const JUDGED_QUESTIONS = 20;

async function request(url: string, init?: RequestInit): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw new Error(`--judge-url: ${url} cannot be reached (${(e as Error).message})`);
  }
  const text = await response.text();
  if (!response.ok)
    throw new Error(`--judge-url: ${url} answered ${response.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

/**
 * The judge as a `ChatModel`: `POST /v1/chat/completions` (greedy, up to 512 tokens) at an
 * OpenAI-compatible endpoint. Without a model name it takes the first of `GET /v1/models`.
 *
 * @throws Error - naming `--judge-url`: the endpoint unreachable, or an answer not 2xx
 */
export async function endpointJudge(endpoint: JudgeEndpoint): Promise<ChatModel> {
  const base = endpoint.url.replace(/\/+$/, '');
  const model =
    endpoint.model ??
    ((await request(`${base}/v1/models`)) as { data: { id: string }[] }).data[0]?.id;
  if (model === undefined) throw new Error(`--judge-url: ${base}/v1/models lists no model`);
  return {
    id: model,
    chat: async (messages: ChatMessage[]) => {
      const body = { model, messages, temperature: 0, max_tokens: 512 };
      const r = (await request(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })) as { choices: { message: { content: string } }[] };
      return r.choices[0]!.message.content;
    },
  };
}

/** One stage's replies judged against the baseline's, both orders per question. */
export interface StageComparison {
  stage: string;
  against: string;
  /** `comparePairwise`'s figures (A: `stage`, B: `against`), or why the judge's output could not be read. */
  report: PairwiseReport | { error: string };
  /** The judge's two outputs per question (rationale, then verdict): `stage` first, then `against` first. */
  verdicts: { question: string; stageFirst: string; againstFirst: string }[];
}

/** What the pipeline's report holds of the judge. */
export interface JudgeSection {
  /** The endpoint and model that judged. */
  judge: { url: string; model: string };
  /** Why the judge may favour some stages' answers (`selfEnhancementCaveat`); absent for an independent judge. */
  caveat?: string;
  comparisons: StageComparison[];
}

/**
 * LLM-as-a-judge over the stages: every stage's greedy replies to the first `JUDGED_QUESTIONS`
 * held-out questions compared with the `against` stage's (`comparePairwise` of `@tessera/eval`:
 * both orders, a winner only where they agree, the position- and length-bias figures,
 * the rationale asked before the verdict), each call's output kept as the rationale. A judge
 * whose output has no verdict line fails that comparison only, with the error in its place.
 * `caveat` (the judge's self-enhancement caveat, if any) goes into the section as given.
 */
export async function judgeStages(
  judge: ChatModel,
  url: string,
  answers: Record<string, StageAnswer[]>,
  against: string,
  caveat?: string,
): Promise<JudgeSection> {
  const comparisons: StageComparison[] = [];
  const base = answers[against] ?? [];
  for (const [stage, replies] of Object.entries(answers)) {
    if (stage === against || replies.length === 0) continue;
    const items = replies.slice(0, JUDGED_QUESTIONS).map((a, i) => ({
      question: a.question,
      answerA: a.reply,
      answerB: base[i]!.reply,
    }));
    const outputs: string[] = [];
    const recording: ChatModel = {
      id: judge.id,
      chat: async (messages) => {
        const text = await judge.chat(messages);
        outputs.push(text);
        return text;
      },
    };
    let report: StageComparison['report'];
    try {
      report = await comparePairwise(recording, items, {
        criteria: JUDGE_CRITERIA,
        modelA: stage,
        modelB: against,
      });
    } catch (e) {
      report = { error: (e as Error).message };
    }
    const verdicts = items.slice(0, Math.ceil(outputs.length / 2)).map((item, i) => ({
      question: item.question,
      stageFirst: outputs[2 * i] ?? '',
      againstFirst: outputs[2 * i + 1] ?? '',
    }));
    comparisons.push({ stage, against, report, verdicts });
  }
  return { judge: { url, model: judge.id }, ...(caveat && { caveat }), comparisons };
}
