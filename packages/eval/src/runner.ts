/**
 * A benchmark runner in the style of lm-evaluation-harness: multiple-choice tasks scored by the
 * log-likelihood of each choice (acc, and acc_norm dividing by the choice's length in characters),
 * generation tasks cut at stop sequences and scored by a metric, and seeded few-shot prompts.
 */

import { exactMatch } from './accuracy.js';
import { mapLimit } from './map-limit.js';
import { checkOptions } from './options.js';
import { seededUniform } from './random.js';

/** What the runner needs from a model. */
export interface LanguageModel {
  id: string;
  /** Sum of the natural-log probabilities of `continuation`'s tokens after `context`. */
  logLikelihood(context: string, continuation: string): Promise<number> | number;
  generate(
    prompt: string,
    options: { maxTokens: number; stop: readonly string[] },
  ): Promise<string> | string;
}

export interface MultipleChoiceDoc {
  question: string;
  choices: readonly string[];
  /** Index of the correct choice. */
  answer: number;
}

export interface GenerationDoc {
  prompt: string;
  targets: readonly string[];
}

export interface MultipleChoiceTask {
  name: string;
  kind: 'multiple-choice';
  docs: readonly MultipleChoiceDoc[];
}

export interface GenerationTask {
  name: string;
  kind: 'generation';
  docs: readonly GenerationDoc[];
  /** Generation stops at the first of these (default: a blank line). */
  stop?: readonly string[];
  maxTokens?: number;
  /** Score of one prediction against its targets (default: SQuAD exact match). */
  metric?: (prediction: string, targets: readonly string[]) => number;
}

export type Task = MultipleChoiceTask | GenerationTask;

export interface RunOptions {
  /** Solved examples put before each question, drawn from the task's other docs (default 0). */
  numFewshot?: number;
  /** Seed of the few-shot draw (default 1234). */
  seed?: number;
  /** Evaluate only the first `limit` docs of each task. */
  limit?: number;
  /** Called after every doc; the CLI prints it as a progress line. */
  onProgress?: (task: string, done: number, total: number) => void;
  /**
   * Called with every doc's result, as lm-evaluation-harness logs samples: the prompt, the
   * model's generation as it returned it (before the cut at stop sequences) and the doc's score.
   */
  onDoc?: (task: string, doc: DocResult) => void;
  /**
   * Docs of a task scored at once (default 1: one after another). A model whose calls run
   * elsewhere (a job queue, a server) can take many; the metrics are the same at any value,
   * summed in the docs' order.
   */
  concurrency?: number;
}

/** One doc's result, as `RunOptions.onDoc` receives it. */
export interface DocResult {
  /** The doc's index in its task. */
  index: number;
  /** The prompt the model was given (few-shot examples included). */
  prompt: string;
  /** Generation tasks: the model's text as `generate` returned it, before the cut at the stop sequences. */
  response?: string;
  /** Generation: the metric's score; multiple choice: 1 when the choice of highest log-likelihood is the answer (acc), else 0. */
  score: number;
}

export interface TaskResult {
  task: string;
  n: number;
  numFewshot: number;
  /** acc and acc_norm for multiple choice; the metric's mean as `score` for generation. */
  metrics: Record<string, number>;
}

export interface BenchmarkReport {
  model: string;
  seed: number;
  results: TaskResult[];
}

const mcPrompt = (d: MultipleChoiceDoc) => `Question: ${d.question}\nAnswer:`;
const genPrompt = (d: GenerationDoc) => d.prompt;

/** `k` distinct docs other than `exclude`, drawn with the seeded generator. */
function drawFewshot<T>(docs: readonly T[], exclude: number, k: number, next: () => number): T[] {
  const pool = docs.map((_, i) => i).filter((i) => i !== exclude);
  if (k > pool.length)
    throw new RangeError(
      `runner: numFewshot ${k} exceeds the ${pool.length} other docs of the task`,
    );
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(next() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, k).map((i) => docs[i]!);
}

/** The prompt for doc `index`: few-shot examples with their answers, then the question. */
export function buildPrompt(task: Task, index: number, numFewshot = 0, seed = 1234): string {
  const next = seededUniform(seed * 1_000_003 + index);
  if (task.kind === 'multiple-choice') {
    const shots = drawFewshot(task.docs, index, numFewshot, next).map(
      (d) => `${mcPrompt(d)} ${d.choices[d.answer]}\n\n`,
    );
    return shots.join('') + mcPrompt(task.docs[index]!);
  }
  const shots = drawFewshot(task.docs, index, numFewshot, next).map(
    (d) => `${genPrompt(d)} ${d.targets[0]}\n\n`,
  );
  return shots.join('') + genPrompt(task.docs[index]!);
}

/** Cut a generation at the first stop sequence. */
export function truncateAtStop(text: string, stop: readonly string[]): string {
  let end = text.length;
  for (const s of stop) {
    const at = s.length > 0 ? text.indexOf(s) : -1;
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end);
}

const argmax = (xs: readonly number[]) => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);

/** One doc's score: multiple choice counts a hit by acc and by acc_norm, generation its metric. */
async function scoreDoc(
  model: LanguageModel,
  task: Task,
  index: number,
  prompt: string,
): Promise<{ hits: [number, number]; response?: string }> {
  if (task.kind === 'multiple-choice') {
    const doc = task.docs[index]!;
    const lls: number[] = [];
    for (const choice of doc.choices) lls.push(await model.logLikelihood(prompt, ` ${choice}`));
    const norm = lls.map((ll, c) => ll / (doc.choices[c]!.length + 1));
    return { hits: [Number(argmax(lls) === doc.answer), Number(argmax(norm) === doc.answer)] };
  }
  const response = await model.generate(prompt, {
    maxTokens: task.maxTokens ?? 32,
    stop: task.stop ?? ['\n\n'],
  });
  const prediction = truncateAtStop(response, task.stop ?? ['\n\n']).trim();
  return {
    hits: [(task.metric ?? exactMatch)(prediction, task.docs[index]!.targets), 0],
    response,
  };
}

async function runTask(model: LanguageModel, task: Task, options: RunOptions): Promise<TaskResult> {
  const k = options.numFewshot ?? 0;
  const seed = options.seed ?? 1234;
  const n = Math.min(task.docs.length, options.limit ?? Number.POSITIVE_INFINITY);
  if (n === 0) throw new RangeError(`runner: task "${task.name}" has no docs`);
  let done = 0;
  const scores = await mapLimit(
    'runBenchmark',
    Array.from({ length: n }, (_, i) => i),
    options.concurrency ?? 1,
    async (i) => {
      const prompt = buildPrompt(task, i, k, seed);
      const { hits, response } = await scoreDoc(model, task, i, prompt);
      options.onDoc?.(task.name, {
        index: i,
        prompt,
        ...(response === undefined ? {} : { response }),
        score: hits[0],
      });
      options.onProgress?.(task.name, ++done, n);
      return hits;
    },
  );
  let sum = 0;
  let sumNorm = 0;
  for (const [hit, hitNorm] of scores) {
    sum += hit;
    sumNorm += hitNorm;
  }
  const metrics: Record<string, number> =
    task.kind === 'multiple-choice' ? { acc: sum / n, acc_norm: sumNorm / n } : { score: sum / n };
  return { task: task.name, n, numFewshot: k, metrics };
}

/** Run tasks one after another (each task's docs `concurrency` at a time) and collect a report. */
export async function runBenchmark(
  model: LanguageModel,
  tasks: readonly Task[],
  options: RunOptions = {},
): Promise<BenchmarkReport> {
  checkOptions('runBenchmark', options, [
    'numFewshot',
    'seed',
    'limit',
    'onProgress',
    'onDoc',
    'concurrency',
  ]);
  const results: TaskResult[] = [];
  for (const task of tasks) results.push(await runTask(model, task, options));
  return { model: model.id, seed: options.seed ?? 1234, results };
}

/** The report as a Markdown table, one row per task and metric. */
export function reportToMarkdown(report: BenchmarkReport): string {
  const rows = report.results.flatMap((r) =>
    Object.entries(r.metrics).map(
      ([metric, value]) =>
        `| ${r.task} | ${r.numFewshot} | ${r.n} | ${metric} | ${value.toFixed(4)} |`,
    ),
  );
  return [
    `Model: ${report.model} (seed ${report.seed})`,
    '',
    '| task | shots | n | metric | value |',
    '| --- | ---: | ---: | --- | ---: |',
    ...rows,
    '',
  ].join('\n');
}
