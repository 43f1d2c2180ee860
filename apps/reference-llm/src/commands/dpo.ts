import { Command, Option } from '@commander-js/extra-typings';
import { integer, numberIn } from '../command-options.js';
import { dpo, PREFERENCE_LOSSES } from '../tuning/dpo.js';
import { runStageCommand, stageOptions } from '../tuning/stage-command.js';

const pct = (x: number | undefined) => `${(100 * (x ?? 0)).toFixed(1)}%`;

export const dpoCommand = () =>
  stageOptions(
    new Command('dpo')
      .summary(
        'direct preference optimisation (DPO, IPO, hinge or SimPO) of the chat model against itself frozen',
      )
      .description(
        'Tunes the chat model of --from on preference pairs (generated, or --data FILE.jsonl) with the DPO loss (--loss ipo, hinge or simpo for the variants), the frozen --from model as the reference; log-probs are summed over each reply with dropout off, so the loss starts at ln 2. Held-out implicit-reward accuracy and margins, and task accuracy and format compliance on the held-out questions (greedy), are measured before training (the SFT model), at intervals and at the end. Writes a checkpoint, report.md, report.json, loss.svg and curves.svg; --resume continues.',
      )
      .option(
        '--from <dir>',
        'run folder of the chat model (sft): the policy to tune and the reference',
        'runs/sft',
      )
      .option(
        '--data <file>',
        'preference pairs, JSONL {"prompt", "chosen", "rejected"} (default: generated)',
      )
      .option('--heldout <file>', 'held-out pairs in the same format (default: generated)')
      .addOption(
        new Option('--batch-size <n>', "pairs per step (default: the recipe's)").argParser(
          integer(1),
        ),
      )
      .addOption(
        new Option('--loss <type>', 'preference loss (default: sigmoid, i.e. DPO)').choices(
          PREFERENCE_LOSSES,
        ),
      )
      .addOption(
        new Option(
          '--beta <b>',
          "strength of the pull toward the reference (default: the recipe's)",
        ).argParser(numberIn({ above: 0 })),
      )
      .addOption(
        new Option(
          '--rpo-alpha <a>',
          "weight of the chosen replies' NLL added to the loss (RPO; default: the recipe's)",
        ).argParser(numberIn({ atLeast: 0 })),
      )
      .option(
        '--questions <file>',
        'held-out questions with reference replies, JSONL {"messages": [...]} (default: generated, the ones sft measures)',
      )
      .addOption(
        new Option(
          '--label-smoothing <e>',
          'probability that a pair is mislabelled (cDPO; default 0)',
        ).argParser(numberIn({ atLeast: 0, atMost: 0.49 })),
      ),
    'runs/dpo',
  ).action(async (o) => {
    await runStageCommand(
      o.backend,
      (device, stop) =>
        dpo({
          from: o.from,
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
          loss: o.loss,
          beta: o.beta,
          labelSmoothing: o.labelSmoothing,
          rpoAlpha: o.rpoAlpha,
          questions: o.questions,
          device,
          stop,
        }),
      (r) =>
        `${r.loop.stopReason ? `stopped after ${r.steps} of ${r.totalSteps} steps; resume with --resume` : 'done'}: held-out implicit-reward accuracy ${pct(r.after.accuracy)}; task accuracy ${pct(r.before.taskAccuracy)} (SFT) → ${pct(r.after.taskAccuracy)}, ${Math.round(r.loop.tokensPerSecond)} tokens/s`,
    );
  });
