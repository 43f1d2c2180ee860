import {
  arithmeticTask,
  type BenchmarkReport,
  knowledgeQuizTask,
  type LanguageModel,
  runBenchmark,
} from '@tessera/eval';

/** The built-in tasks of `tasks` and `eval --tasks`: two-digit arithmetic (generation) and the knowledge quiz (multiple choice). */
export const builtInTasks = () => [arithmeticTask(50, 0), knowledgeQuizTask()];

/** How `runTaskSuite` runs the built-in tasks. */
export interface TaskSuiteOptions {
  /** Solved examples before each question (`runBenchmark`'s `numFewshot`). */
  fewshot: number;
  /** Questions per task; default all (50 arithmetic, 10 quiz). */
  limit?: number;
  /** Seed of the few-shot draw. */
  seed: number;
  /** Docs of a task scored at once (`runBenchmark`'s; default 1). */
  concurrency?: number;
  /** Called after every doc. */
  onProgress?: (task: string, done: number, total: number) => void;
}

/**
 * The built-in tasks (`builtInTasks`) through `@tessera/eval`'s benchmark runner: what `tasks`,
 * `eval --tasks` and `dllm tasks` measure. Metrics per task:
 * `score` (exact match of the greedy answer) for arithmetic, `acc` and `acc_norm` for the quiz.
 */
export function runTaskSuite(lm: LanguageModel, o: TaskSuiteOptions): Promise<BenchmarkReport> {
  return runBenchmark(lm, builtInTasks(), {
    numFewshot: o.fewshot,
    limit: o.limit,
    seed: o.seed,
    concurrency: o.concurrency,
    onProgress: o.onProgress,
  });
}
