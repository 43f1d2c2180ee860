import { Command, Option } from '@commander-js/extra-typings';
import {
  backendOption,
  forceOption,
  integer,
  numberIn,
  resumeOption,
  withDevice,
} from '../command-options.js';
import { trainDiffusion } from '../dllm/train.js';
import { OPTIMIZERS } from '../optimizer.js';
import { PRESETS } from '../presets.js';
import { SIGNAL_EXIT, stopOnSignals } from '../stop-signals.js';

export const dllmTrainCommand = () =>
  new Command('train')
    .summary('train a masked diffusion LM with the recipe and tokenizer of pretrain')
    .description(
      "Trains a masked diffusion LM (LLaDA, MDLM) on the training split (90%) with pretrain's recipe: the same BPE tokenizer plus the mask token <|mdm_mask|>, the preset's model without the causal mask, its Chinchilla budget, schedules and clipping. Each step masks every window with its own rate t ~ U(0, 1] and minimises the cross-entropy of the masked tokens weighted 1/t. Validation reports that loss and the bits per byte it bounds. Checkpoints, --resume, Ctrl-C/SIGTERM and the report work as in pretrain.",
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
    .option('--out <dir>', 'run folder (default: runs/dllm-<preset>)')
    .addOption(resumeOption())
    .addOption(forceOption())
    .addOption(
      new Option(
        '--steps <n>',
        "training steps (default: the preset's Chinchilla budget, as pretrain)",
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
        "checkpoint every N steps (default: the preset's evaluation interval)",
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
      const out = o.out ?? `runs/dllm-${o.preset ?? 'tiny'}`;
      const signals = stopOnSignals();
      try {
        const r = await withDevice(o.backend, (device) =>
          trainDiffusion({
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
          `${how}: validation ${last?.loss.toFixed(4) ?? '–'} nats/token, ≤ ${last?.bpb?.toFixed(3) ?? '–'} bits/byte (ELBO bound), ${Math.round(r.tokensPerSecond)} tokens/s; checkpoint and report in ${out}`,
        );
        if (r.stopReason === 'SIGINT' || r.stopReason === 'SIGTERM')
          process.exitCode = SIGNAL_EXIT[r.stopReason];
      } finally {
        signals.dispose();
      }
    });
