import { Command, Option } from '@commander-js/extra-typings';
import { integer, numberIn } from '../command-options.js';
import { GRPO_LOSSES, grpo, timeSplit } from '../tuning/grpo.js';
import { runStageCommand, stageOptions } from '../tuning/stage-command.js';

const pct = (x: number | undefined) => `${(100 * (x ?? 0)).toFixed(1)}%`;

export const grpoCommand = () =>
  stageOptions(
    new Command('grpo')
      .summary(
        'RL with verifiable rewards: GRPO, Dr. GRPO or DAPO on multi-step arithmetic, groups of sampled answers per problem',
      )
      .description(
        'Each step samples --group answers to each of a batch of arithmetic problems from the policy (batched decoding), rewards each with its answer’s correctness (the final "Answer:" line) plus 0.1 for the format, and trains on group-relative advantages (--loss grpo: mean per answer, std-scaled; dr_grpo: a constant normaliser, unscaled; dapo: token mean, clip-higher, groups whose answers are all right or all wrong dropped and refilled from more problems, up to --max-draws generation batches, with --overlong-buffer a soft penalty on answers that reach the last tokens allowed), --iterations passes per batch, with an optional k3 KL to the --from model (--beta). Records reward, accuracy, completion lengths (correct vs incorrect), clip fraction, and the time spent generating vs training every step; held-out greedy accuracy at intervals; majority-vote accuracy over 1, 4 and 16 samples at the end. Problems are generated from the seed (a held-out split the tasks command also measures) or read from --data/--heldout. Writes a checkpoint, report.md, report.json, loss.svg and curves.svg; --resume continues.',
      )
      .option('--from <dir>', 'run folder of the chat model (sft) to tune', 'runs/sft')
      .addOption(
        new Option('--loss <name>', 'loss aggregation and its settings (default: grpo)').choices(
          GRPO_LOSSES,
        ),
      )
      .option(
        '--data <file>',
        'problems: chats, JSONL {"messages": [...]}, the last reply ending with "Answer: <number>" (default: generated)',
      )
      .option('--heldout <file>', 'held-out problems, same format (default: generated)')
      .addOption(
        new Option('--batch-size <n>', "problems per step (default: the recipe's)").argParser(
          integer(1),
        ),
      )
      .addOption(
        new Option(
          '--group <n>',
          "answers sampled per problem, G (default: the recipe's)",
        ).argParser(integer(2)),
      )
      .addOption(
        new Option(
          '--beta <b>',
          "KL coefficient toward the --from model; 0 keeps no reference (default: the recipe's)",
        ).argParser(numberIn({ atLeast: 0 })),
      )
      .addOption(
        new Option(
          '--iterations <n>',
          "passes over each generation batch, μ (default: the recipe's)",
        ).argParser(integer(1)),
      )
      .addOption(
        new Option(
          '--max-new-tokens <n>',
          "tokens an answer may have (default: the recipe's)",
        ).argParser(integer(1)),
      )
      .addOption(
        new Option('--temperature <t>', 'sampling temperature (default 1)').argParser(
          numberIn({ above: 0 }),
        ),
      )
      .addOption(
        new Option(
          '--max-draws <n>',
          'with --loss dapo: generation batches drawn at most per step to fill it with groups whose rewards differ (default 3)',
        ).argParser(integer(1)),
      )
      .addOption(
        new Option(
          '--overlong-buffer <tokens>',
          'DAPO’s soft overlong penalty, added to the reward: from 0 down to −1 over the last N tokens before --max-new-tokens (default 0: off)',
        ).argParser(integer(0)),
      )
      .option('--no-votes', 'skip the majority-vote evaluation at the end'),
    'runs/grpo',
  ).action(async (o) => {
    await runStageCommand(
      o.backend,
      (device, stop) =>
        grpo({
          from: o.from,
          loss: o.loss,
          out: o.out,
          data: o.data,
          heldout: o.heldout,
          resume: o.resume,
          force: o.force,
          maxSeconds: o.maxMinutes === undefined ? undefined : 60 * o.maxMinutes,
          saveEvery: o.saveEvery,
          steps: o.steps,
          lr: o.lr,
          seed: o.seed,
          batchSize: o.batchSize,
          group: o.group,
          beta: o.beta,
          iterations: o.iterations,
          maxNewTokens: o.maxNewTokens,
          temperature: o.temperature,
          maxDraws: o.maxDraws,
          overlongBuffer: o.overlongBuffer,
          ...(!o.votes && { votes: [] }),
          device,
          stop,
        }),
      (r) => {
        const time = timeSplit(r.metrics);
        const votes = r.votes
          ? `; majority vote ${Object.entries(r.votes.accuracy)
              .map(([k, a]) => `k=${k} ${pct(a)}`)
              .join(', ')}`
          : '';
        return `${r.loop.stopReason ? `stopped after ${r.steps} of ${r.totalSteps} steps; resume with --resume` : 'done'}: held-out accuracy ${pct(r.before.accuracy)} (SFT) → ${pct(r.after.accuracy)}${votes}; generation ${time.generationSeconds.toFixed(1)} s (${Math.round(time.generationTokensPerSecond)} tokens/s), training ${time.trainingSeconds.toFixed(1)} s (${Math.round(time.trainingTokensPerSecond)} tokens/s)`;
      },
    );
  });
