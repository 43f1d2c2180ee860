import { Command, Option } from '@commander-js/extra-typings';
import {
  backendOption,
  forceOption,
  integer,
  numberIn,
  resumeOption,
  withDevice,
} from '../command-options.js';
import { SIGNAL_EXIT, stopOnSignals } from '../stop-signals.js';
import { MNIST_VIT, VIT_RECIPE, vitTrain } from '../vit-train.js';

const percent = (x: number) => `${(100 * x).toFixed(2)}%`;

export const vitTrainCommand = () =>
  new Command('train')
    .summary(
      'train a ViT on MNIST against an MLP baseline, with checkpoints, a report and pictures',
    )
    .description(
      `Trains a Vision Transformer on 8,000 of the bundled MNIST digits (random shifts of up to 2 pixels) and tests it on the 2,000 held out (a fixed split), then an MLP baseline with the same steps, batches, optimizer and schedule. Progress, held-out evaluation and atomic checkpoints at intervals; Ctrl-C or SIGTERM saves and exits (130 or 143); --resume continues. Writes report.md, report.json, loss.svg, accuracy.svg, confusion.svg and rollout.svg (attention rollout from the class token over held-out digits). The model: ${MNIST_VIT.patchSize}×${MNIST_VIT.patchSize} patches, width ${MNIST_VIT.dModel}, ${MNIST_VIT.layers} layers of ${MNIST_VIT.heads} heads.`,
    )
    .option('--out <dir>', 'run folder', 'runs/vit')
    .addOption(resumeOption())
    .addOption(forceOption())
    .addOption(
      new Option(
        '--steps <n>',
        `training steps (default: ${VIT_RECIPE.steps}, about 15 passes over the training digits)`,
      ).argParser(integer(1)),
    )
    .addOption(
      new Option(
        '--batch-size <n>',
        `images per step (default: ${VIT_RECIPE.batchSize})`,
      ).argParser(integer(1)),
    )
    .addOption(
      new Option('--lr <rate>', `peak learning rate (default: ${VIT_RECIPE.lr})`).argParser(
        numberIn({ above: 0 }),
      ),
    )
    .addOption(
      new Option(
        '--shift <px>',
        `random shift of training images (default: ${VIT_RECIPE.shift})`,
      ).argParser(integer(0)),
    )
    .addOption(
      new Option(
        '--positions <kind>',
        'learned 1-D positions or 2-D RoPE (default: learned)',
      ).choices(['learned', 'rope2d'] as const),
    )
    .addOption(
      new Option(
        '--pool <kind>',
        'classify from the class token or the mean of the patches (default: cls)',
      ).choices(['cls', 'mean'] as const),
    )
    .addOption(
      new Option('--patch <px>', `patch side (default: ${MNIST_VIT.patchSize})`).choices([
        '4',
        '7',
        '14',
      ] as const),
    )
    .addOption(
      new Option('--drop-path <p>', 'stochastic depth of the deepest block (default: 0)').argParser(
        numberIn({ atLeast: 0, atMost: 0.9 }),
      ),
    )
    .addOption(
      new Option(
        '--dropout <p>',
        'dropout on embeddings and residual branches (default: 0)',
      ).argParser(numberIn({ atLeast: 0, atMost: 0.9 })),
    )
    .addOption(
      new Option(
        '--seed <n>',
        `seeds the initial weights, batches and augmentation (default: ${VIT_RECIPE.seed})`,
      ).argParser(integer(0)),
    )
    .addOption(
      new Option(
        '--max-minutes <m>',
        "stop the ViT's training after M minutes: evaluate, save, report",
      ).argParser(numberIn({ above: 0 })),
    )
    .addOption(
      new Option('--eval-every <n>', 'held-out evaluation every N steps')
        .argParser(integer(1))
        .default(100),
    )
    .addOption(
      new Option('--save-every <n>', 'checkpoint every N steps').argParser(integer(1)).default(100),
    )
    .option('--no-baseline', 'skip the MLP baseline')
    .addOption(backendOption())
    .action(async (o) => {
      const signals = stopOnSignals();
      try {
        const model = {
          ...(o.positions && { positions: o.positions }),
          ...(o.pool && { pool: o.pool }),
          ...(o.patch && { patchSize: Number(o.patch) }),
          ...(o.dropPath !== undefined && { dropPath: o.dropPath }),
          ...(o.dropout !== undefined && { dropout: o.dropout }),
          ...(o.seed !== undefined && { seed: o.seed }),
        };
        const r = await withDevice(o.backend, (device) =>
          vitTrain({
            out: o.out,
            resume: o.resume,
            force: o.force,
            model,
            steps: o.steps,
            batchSize: o.batchSize,
            lr: o.lr,
            shift: o.shift,
            seed: o.seed,
            maxSeconds: o.maxMinutes === undefined ? undefined : 60 * o.maxMinutes,
            evalEvery: o.evalEvery,
            saveEvery: o.saveEvery,
            baseline: o.baseline,
            device,
            stop: signals.stop,
          }),
        );
        const how =
          r.stopReason === undefined
            ? 'done'
            : `stopped (${r.stopReason === 'time' ? 'time limit' : r.stopReason}) after ${r.vit.steps} of ${r.totalSteps} steps; resume with --resume`;
        const mlp = r.mlp ? ` (MLP baseline ${percent(r.mlp.test.accuracy)})` : '';
        console.log(
          `${how}: ViT ${percent(r.vit.test.accuracy)} on the 2,000 held-out digits${mlp}; ${(r.vit.trainSeconds / 60).toFixed(1)} min at ${r.vit.trainImagesPerSecond.toFixed(0)} images/s; report in ${o.out}`,
        );
        if (r.stopReason === 'SIGINT' || r.stopReason === 'SIGTERM')
          process.exitCode = SIGNAL_EXIT[r.stopReason];
      } finally {
        signals.dispose();
      }
    });
