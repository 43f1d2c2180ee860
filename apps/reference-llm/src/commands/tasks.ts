import { join } from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import { type LanguageModel, reportToMarkdown, type TaskResult } from '@tessera/eval';
import { writeAtomic } from '../atomic-write.js';
import {
  backendOption,
  checkpointOption,
  integer,
  seedOption,
  withDevice,
} from '../command-options.js';
import { asLanguageModel } from '../language-model.js';
import { loadCheckpoint } from '../load.js';
import { Progress } from '../progress.js';
import { FILES } from '../run-folder.js';
import { runTaskSuite } from '../task-suite.js';
import { heldoutArithmetic } from '../tuning/arithmetic-task.js';
import { ChatFormat, hasChatTokens } from '../tuning/chat-format.js';

/** The flags of the built-in tasks, shared by `tasks` and `dllm tasks` (add each). */
export const taskFlags = {
  fewshot: () =>
    new Option('--fewshot <n>', 'solved examples before each question')
      .argParser(integer(0))
      .default(0),
  limit: () => new Option('--limit <n>', 'questions per task (default: all)').argParser(integer(1)),
  seed: () => seedOption('choosing the few-shot examples'),
};

/**
 * Runs the built-in tasks on a model (`runTaskSuite`) with a progress bar per task (then `more`, the rows a
 * command adds), writes the report to `dir`/tasks.json and prints it as a Markdown table.
 * `concurrency` docs of a task are scored at once (`runBenchmark`'s; default 1).
 */
export async function runBuiltInTasks(
  lm: LanguageModel,
  dir: string,
  o: { fewshot: number; limit?: number; seed: number; concurrency?: number },
  more: () => Promise<TaskResult[]> = async () => [],
): Promise<void> {
  const bars = new Map<string, Progress>();
  const report = await runTaskSuite(lm, {
    ...o,
    onProgress: (task, done, total) => {
      if (!bars.has(task)) bars.set(task, new Progress(task, total));
      bars.get(task)!.update(done);
    },
  });
  report.results.push(...(await more()));
  writeAtomic(join(dir, FILES.tasks), `${JSON.stringify(report, null, 2)}\n`);
  console.log(reportToMarkdown(report));
}

export const tasksCommand = () =>
  new Command('tasks')
    .summary(
      'the built-in benchmark tasks (two-digit arithmetic by greedy generation, a ten-question knowledge quiz by log-likelihood; for a chat model also the held-out multi-step arithmetic of grpo --seed 1, answered in ChatML); prints a Markdown table, writes DIR/tasks.json',
    )
    .addOption(checkpointOption())
    .addOption(taskFlags.fewshot())
    .addOption(taskFlags.limit())
    .addOption(taskFlags.seed())
    .addOption(backendOption())
    .action(async (o) => {
      await withDevice(o.backend, async (device) => {
        const { model, tokenizer } = loadCheckpoint(o.checkpoint, device);
        await runBuiltInTasks(
          asLanguageModel(model, tokenizer, o.checkpoint),
          o.checkpoint,
          o,
          async () =>
            hasChatTokens(tokenizer)
              ? [
                  await heldoutArithmetic(model, new ChatFormat(tokenizer), o.checkpoint, {
                    seed: 1,
                    count: o.limit ?? 100,
                    maxNewTokens: 32,
                  }),
                ]
              : [],
        );
      });
    });
