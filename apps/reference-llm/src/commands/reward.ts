import { Command, Option } from '@commander-js/extra-typings';
import { integer, numberIn } from '../command-options.js';
import { trainRewardModel } from '../tuning/reward.js';
import { runStageCommand, stageOptions } from '../tuning/stage-command.js';

const pct = (x: number | undefined) => `${(100 * (x ?? 0)).toFixed(1)}%`;

export const rewardCommand = () =>
  stageOptions(
    new Command('reward')
      .summary(
        'a Bradley–Terry reward model on the chat model’s trunk, measured by held-out pair accuracy',
      )
      .description(
        'Puts a scalar head on the trunk of the chat model of --from (Hugging Face LlamaForSequenceClassification names) and trains it on preference pairs — generated (the correct, well-formatted reply chosen over a wrong or badly formatted one) or --data FILE.jsonl ({"prompt", "chosen", "rejected"}) — with the pairwise loss −log σ(r_chosen − r_rejected − margin), the score read at each conversation’s last token. Held-out pair accuracy, loss and margin are measured before training, at intervals and at the end. Writes a checkpoint, report.md, report.json, loss.svg and curves.svg; --resume continues.',
      )
      .option('--from <dir>', 'run folder of the chat model (sft)', 'runs/sft')
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
        new Option('--margin <m>', 'required reward gap per pair (default 0)').argParser(
          numberIn({ atLeast: 0 }),
        ),
      ),
    'runs/reward',
  ).action(async (o) => {
    await runStageCommand(
      o.backend,
      (device, stop) =>
        trainRewardModel({
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
          margin: o.margin,
          device,
          stop,
        }),
      (r) =>
        `${r.loop.stopReason ? `stopped after ${r.steps} of ${r.totalSteps} steps; resume with --resume` : 'done'}: held-out pair accuracy ${pct(r.before.accuracy)} → ${pct(r.after.accuracy)}, ${Math.round(r.loop.tokensPerSecond)} tokens/s`,
    );
  });
