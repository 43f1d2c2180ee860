import { Command, Option } from '@commander-js/extra-typings';
import { backendOption, forceOption, integer, numberIn, withDevice } from '../command-options.js';
import { SIGNAL_EXIT, stopOnSignals } from '../stop-signals.js';
import { vitCaption } from '../vit-caption.js';

export const vitCaptionCommand = () =>
  new Command('caption')
    .summary(
      'a first multimodal model: a projector from ViT patches into a decoder that captions digits',
    )
    .description(
      'Encodes each digit with the frozen ViT of a vit train run, maps its patch features through a two-layer projector (trained from scratch) into the embedding space of a pretrain run\'s decoder, and tunes projector and decoder to write "a handwritten seven" after [image tokens] <|endoftext|>. Reports greedy caption accuracy on the held-out digits; `generate --checkpoint DIR --image digit.png` captions a PNG.',
    )
    .option('--vit <dir>', 'run folder written by vit train', 'runs/vit')
    .option(
      '--lm <dir>',
      'run folder written by pretrain (the decoder and its tokenizer)',
      'runs/tiny',
    )
    .option('--out <dir>', 'run folder', 'runs/vit-caption')
    .addOption(new Option('--force', forceOption().description))
    .addOption(new Option('--steps <n>', 'training steps').argParser(integer(1)).default(300))
    .addOption(new Option('--batch-size <n>', 'digits per step').argParser(integer(1)).default(32))
    .addOption(
      new Option('--lr <rate>', 'peak learning rate')
        .argParser(numberIn({ above: 0 }))
        .default(2e-3),
    )
    .addOption(
      new Option('--eval-every <n>', 'caption accuracy on held-out digits every N steps')
        .argParser(integer(1))
        .default(100),
    )
    .addOption(
      new Option('--eval-digits <n>', 'held-out digits captioned at each evaluation')
        .argParser(integer(1))
        .default(200),
    )
    .addOption(
      new Option(
        '--final-digits <n>',
        'held-out digits captioned at the end (default: all 2,000)',
      ).argParser(integer(1)),
    )
    .addOption(backendOption())
    .action(async (o) => {
      const signals = stopOnSignals();
      try {
        const r = await withDevice(o.backend, (device) =>
          vitCaption({
            out: o.out,
            vit: o.vit,
            lm: o.lm,
            force: o.force,
            steps: o.steps,
            batchSize: o.batchSize,
            lr: o.lr,
            evalEvery: o.evalEvery,
            evalDigits: o.evalDigits,
            finalDigits: o.finalDigits,
            device,
            stop: signals.stop,
          }),
        );
        for (const s of r.samples.slice(0, 3)) console.log(`  ${s.label}: ${s.caption}`);
        console.log(
          `caption accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.digits} held-out digits (the ViT alone: ${(100 * r.vitAccuracy).toFixed(2)}%); checkpoint and report in ${o.out}`,
        );
        if (r.stopReason === 'SIGINT' || r.stopReason === 'SIGTERM')
          process.exitCode = SIGNAL_EXIT[r.stopReason];
      } finally {
        signals.dispose();
      }
    });
