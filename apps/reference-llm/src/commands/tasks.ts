import { join } from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import { arithmeticTask, knowledgeQuizTask, reportToMarkdown, runBenchmark } from '@tessera/eval';
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
import { heldoutArithmetic } from '../tuning/arithmetic-task.js';
import { ChatFormat, hasChatTokens } from '../tuning/chat-format.js';

export const tasksCommand = () =>
  new Command('tasks')
    .summary(
      'the built-in benchmark tasks (two-digit arithmetic by greedy generation, a ten-question knowledge quiz by log-likelihood; for a chat model also the held-out multi-step arithmetic of grpo --seed 1, answered in ChatML); prints a Markdown table, writes DIR/tasks.json',
    )
    .addOption(checkpointOption())
    .addOption(
      new Option('--fewshot <n>', 'solved examples before each question')
        .argParser(integer(0))
        .default(0),
    )
    .addOption(new Option('--limit <n>', 'questions per task (default: all)').argParser(integer(1)))
    .addOption(seedOption('choosing the few-shot examples'))
    .addOption(backendOption())
    .action(async (o) => {
      const report = await withDevice(o.backend, async (device) => {
        const { model, tokenizer } = loadCheckpoint(o.checkpoint, device);
        const bars = new Map<string, Progress>();
        const report = await runBenchmark(
          asLanguageModel(model, tokenizer, o.checkpoint),
          [arithmeticTask(50, 0), knowledgeQuizTask()],
          {
            numFewshot: o.fewshot,
            limit: o.limit,
            seed: o.seed,
            onProgress: (task, done, total) => {
              if (!bars.has(task)) bars.set(task, new Progress(task, total));
              bars.get(task)!.update(done);
            },
          },
        );
        if (hasChatTokens(tokenizer))
          report.results.push(
            await heldoutArithmetic(model, new ChatFormat(tokenizer), {
              seed: 1,
              count: o.limit ?? 100,
              maxNewTokens: 32,
            }),
          );
        return report;
      });
      writeAtomic(join(o.checkpoint, FILES.tasks), `${JSON.stringify(report, null, 2)}\n`);
      console.log(reportToMarkdown(report));
    });
