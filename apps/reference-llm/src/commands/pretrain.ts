import { Command, Option } from '@commander-js/extra-typings';
import {
  backendOption,
  forceOption,
  integer,
  numberIn,
  resumeOption,
  withDevice,
} from '../command-options.js';
import { OPTIMIZERS } from '../optimizer.js';
import { PRESETS } from '../presets.js';
import { pretrain } from '../pretrain.js';
import { SIGNAL_EXIT, stopOnSignals } from '../stop-signals.js';

export const pretrainCommand = () =>
  new Command('pretrain')
    .summary('train a tokenizer and a GPT on a text, with checkpoints and a report')
    .description(
      "Trains a byte-level BPE tokenizer on the training split (90%), then the model for the preset's Chinchilla budget (warmup + cosine decay, gradient clipping), evaluating validation loss and bits per byte at intervals. Checkpoints are saved atomically into the run folder; Ctrl-C or SIGTERM saves and exits (status 130 or 143); --resume continues on the same trajectory. Writes report.md, report.json and loss.svg at the end.",
    )
    .addOption(
      new Option(
        '--preset <name>',
        "model and recipe (default: tiny; on --resume, the checkpoint's)",
      ).choices(Object.keys(PRESETS)),
    )
    .addOption(
      new Option(
        '--optimizer <name>',
        "optimizer (default: adamw; on --resume, the checkpoint's)",
      ).choices(OPTIMIZERS),
    )
    .option('--out <dir>', 'run folder (default: runs/<preset>)')
    .addOption(resumeOption())
    .addOption(forceOption())
    .addOption(
      new Option(
        '--steps <n>',
        "training steps (default: the preset's Chinchilla budget)",
      ).argParser(integer(1)),
    )
    .addOption(
      new Option('--max-minutes <m>', 'stop after M minutes: evaluate, save, report').argParser(
        numberIn({ above: 0 }),
      ),
    )
    .option('--data <file>', 'UTF-8 text to train on (default: the bundled tinyshakespeare)')
    .addOption(
      new Option(
        '--save-every <n>',
        'checkpoint every N steps (default: the validation interval, --eval-every)',
      ).argParser(integer(1)),
    )
    .addOption(
      new Option(
        '--eval-every <n>',
        "validation every N steps (default: the preset's evaluation interval)",
      ).argParser(integer(1)),
    )
    .addOption(backendOption())
    .action(async (o) => {
      const out = o.out ?? `runs/${o.preset ?? 'tiny'}`;
      const signals = stopOnSignals();
      try {
        const r = await withDevice(o.backend, (device) =>
          pretrain({
            out,
            preset: o.preset,
            optimizer: o.optimizer,
            resume: o.resume,
            force: o.force,
            steps: o.steps,
            maxSeconds: o.maxMinutes === undefined ? undefined : 60 * o.maxMinutes,
            data: o.data,
            saveEvery: o.saveEvery,
            evalEvery: o.evalEvery,
            device,
            stop: signals.stop,
          }),
        );
        const last = r.val.at(-1);
        const how =
          r.stopReason === undefined
            ? 'done'
            : `stopped (${r.stopReason === 'time' ? 'time limit' : r.stopReason}) after ${r.steps} of ${r.totalSteps} steps; resume with --resume`;
        console.log(
          `${how}: validation ${last?.bpb?.toFixed(3) ?? '–'} bits/byte (unigram ${r.unigramBpb.toFixed(3)}), ${Math.round(r.tokensPerSecond)} tokens/s; checkpoint and report in ${out}`,
        );
        if (r.stopReason === 'SIGINT' || r.stopReason === 'SIGTERM')
          process.exitCode = SIGNAL_EXIT[r.stopReason];
      } finally {
        signals.dispose();
      }
    });
