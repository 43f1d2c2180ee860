import { Command, Option } from '@commander-js/extra-typings';
import { buildPrompt, comparePairwise, type GenerationTask, truncateAtStop } from '@tessera/eval';
import type { Device } from '@tessera/tensor-webgpu';
import { backendOption, checkpointOption, withDevice } from '../command-options.js';
import { DEFAULT_DATA } from '../data.js';
import { evaluateCheckpoint } from '../evaluate.js';
import { endpointJudge, JUDGE_CRITERIA, JUDGED_QUESTIONS } from '../pipeline/judge.js';
import { comparisonLine } from '../pipeline/report.js';
import type { PretrainState } from '../pretrain.js';
import { Progress } from '../progress.js';
import { queueCalls } from '../queue/bullmq.js';
import { type Calls, callChatModel, callLanguageModel, localCalls } from '../queue/calls.js';
import { readCheckpoint } from '../run-folder.js';
import { builtInTasks } from '../task-suite.js';
import { runBuiltInTasks, taskFlags } from './tasks.js';

/** Calls a coordinator keeps on the queue at once: enough for every worker to stay busy. */
const QUEUED_AT_ONCE = 256;

interface JudgeFlags {
  checkpoint: string;
  against: string;
  judgeUrl: string;
  judgeModel?: string;
  limit?: number;
  fewshot: number;
  seed: number;
}

/**
 * The judge's pairwise comparison of two checkpoints' greedy answers to the built-in arithmetic
 * task's first questions (as `tasks` prompts them), both orders; one line of figures.
 */
async function judgeCheckpoints(calls: Calls, o: JudgeFlags, concurrency: number): Promise<string> {
  // The model's name comes from the endpoint here, once: a wrong URL fails before any job.
  const judgeModel = o.judgeModel ?? (await endpointJudge({ url: o.judgeUrl })).id;
  const task = builtInTasks()[0] as GenerationTask;
  const n = Math.min(task.docs.length, o.limit ?? JUDGED_QUESTIONS);
  const prompts = Array.from({ length: n }, (_, i) => buildPrompt(task, i, o.fewshot, o.seed));
  const stop = task.stop ?? ['\n\n'];
  const answer = (checkpoint: string) => {
    const lm = callLanguageModel(calls, checkpoint);
    return Promise.all(
      prompts.map(async (p) =>
        truncateAtStop(
          await lm.generate(p, { maxTokens: task.maxTokens ?? 32, stop }),
          stop,
        ).trim(),
      ),
    );
  };
  const [a, b] = [await answer(o.checkpoint), await answer(o.against)];
  const items = prompts.map((question, i) => ({ question, answerA: a[i]!, answerB: b[i]! }));
  const report = await comparePairwise(callChatModel(calls, o.judgeUrl, judgeModel), items, {
    criteria: JUDGE_CRITERIA,
    modelA: o.checkpoint,
    modelB: o.against,
    concurrency,
  });
  return `judge ${judgeModel} at ${o.judgeUrl}: ${comparisonLine({ stage: o.checkpoint, against: o.against, report, verdicts: [] })}`;
}

export const evalCommand = () =>
  new Command('eval')
    .summary(
      'validation perplexity and bits per byte of a checkpoint, over every validation token; with --tasks the built-in benchmark tasks, with --judge-url an LLM judge against another checkpoint, in this process or fanned out over a job queue (--queue)',
    )
    .description(
      "Prints validation perplexity and bits per byte. --tasks also runs the built-in tasks (as `tasks`, without the chat arithmetic) and writes DIR/tasks.json; --judge-url with --against compares the two checkpoints' greedy answers to the arithmetic questions with an LLM judge (both orders; position and length bias). With --queue redis://HOST:PORT every model and judge call of those is a job on a BullMQ queue, run by `reference-llm worker` processes (retried on failure, taken over from a worker that dies); the figures are the same as in this process.",
    )
    .addOption(checkpointOption())
    .option(
      '--data <file>',
      'text whose validation split (last 10%) is scored (default: the one the run trained on)',
    )
    .option('--tasks', 'also the built-in benchmark tasks (arithmetic and the knowledge quiz)')
    .addOption(taskFlags.fewshot())
    .addOption(taskFlags.limit())
    .addOption(taskFlags.seed())
    .option(
      '--judge-url <url>',
      'an OpenAI-compatible endpoint whose model judges the answers of --checkpoint against those of --against',
    )
    .option('--judge-model <name>', 'the judge model at --judge-url (default: the first it lists)')
    .option('--against <dir>', 'the run folder the judge compares --checkpoint with')
    .addOption(
      new Option(
        '--queue <url>',
        'run the model and judge calls of --tasks and --judge-url on `reference-llm worker`s, through the BullMQ queue on this Redis server (redis://HOST:PORT)',
      ),
    )
    .addOption(backendOption())
    .action(async (o) => {
      if (o.judgeUrl !== undefined && o.against === undefined)
        throw new Error('--judge-url: give --against DIR, the checkpoint the judge compares with');
      if (o.queue !== undefined && !o.tasks && o.judgeUrl === undefined)
        throw new Error(
          `--queue ${o.queue}: the queue runs the calls of --tasks and --judge-url; give one of them`,
        );
      const trained = readCheckpoint<PretrainState>(o.checkpoint).state.data?.path;
      const data =
        o.data ?? (trained === undefined || trained === 'bundled' ? DEFAULT_DATA : trained);
      await withDevice(o.backend, async (device) => {
        let progress: Progress | undefined;
        const r = await evaluateCheckpoint(o.checkpoint, {
          device,
          data,
          onProgress: (done, total) => {
            progress ??= new Progress('eval', total);
            progress.update(done);
          },
        });
        console.log(
          `validation: ${r.tokens} tokens, ${r.meanNll.toFixed(4)} nats/token, perplexity ${r.perplexity.toFixed(2)}, ${r.bitsPerByte.toFixed(3)} bits/byte`,
        );
        if (!o.tasks && o.judgeUrl === undefined) return;
        await withCalls(o.queue, device, async (calls, concurrency) => {
          if (o.tasks)
            await runBuiltInTasks(callLanguageModel(calls, o.checkpoint), o.checkpoint, {
              ...o,
              concurrency,
            });
          if (o.judgeUrl !== undefined)
            console.log(
              await judgeCheckpoints(
                calls,
                { ...o, judgeUrl: o.judgeUrl, against: o.against! },
                concurrency,
              ),
            );
        });
      });
    });

/** Runs `fn` with the calls in this process (one at a time) or on the queue at `queue` (many at once). */
async function withCalls(
  queue: string | undefined,
  device: Device,
  fn: (calls: Calls, concurrency: number) => Promise<void>,
): Promise<void> {
  const calls = queue === undefined ? localCalls(device) : await queueCalls(queue);
  try {
    await fn(calls, queue === undefined ? 1 : QUEUED_AT_ONCE);
  } finally {
    await calls.close();
  }
}
