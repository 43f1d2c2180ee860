import { Command, Option } from '@commander-js/extra-typings';
import {
  backendOption,
  checkpointOption,
  integer,
  numberIn,
  seedOption,
  withDevice,
} from '../command-options.js';
import { complete } from '../load.js';
import { captionFile } from '../vit-caption.js';

export const generateCommand = () =>
  new Command('generate')
    .summary('sample from a checkpoint, streaming to the terminal (with the KV cache)')
    .addOption(checkpointOption())
    .option('--prompt <text>', 'the text to continue', '\n')
    .addOption(
      new Option('--max-new-tokens <n>', 'tokens to generate').argParser(integer(1)).default(200),
    )
    .addOption(
      new Option('--temperature <t>', 'softmax temperature; 0 is greedy')
        .argParser(numberIn({ atLeast: 0 }))
        .default(0.8),
    )
    .addOption(
      new Option('--top-k <k>', 'sample among the k most likely tokens').argParser(integer(1)),
    )
    .addOption(
      new Option(
        '--top-p <p>',
        'sample within the smallest set of probability p (nucleus)',
      ).argParser(numberIn({ above: 0, atMost: 1 })),
    )
    .addOption(
      new Option('--min-p <p>', "drop tokens below p times the top token's probability").argParser(
        numberIn({ atLeast: 0, atMost: 1 }),
      ),
    )
    .addOption(seedOption('sampling'))
    .addOption(
      new Option(
        '--image <file>',
        'caption a digit image (PNG) with a checkpoint of vit caption, which reads the image instead of --prompt',
      ).conflicts('prompt'),
    )
    .addOption(backendOption())
    .action(async (o) => {
      await withDevice(o.backend, async (device) => {
        const options = {
          device,
          maxNewTokens: o.maxNewTokens,
          temperature: o.temperature,
          topK: o.topK,
          topP: o.topP,
          minP: o.minP,
          seed: o.seed,
          onText: (piece: string) => process.stdout.write(piece),
        };
        try {
          if (o.image) await captionFile(o.checkpoint, o.image, options);
          else {
            process.stdout.write(o.prompt);
            await complete(o.checkpoint, o.prompt, options);
          }
        } finally {
          // End the streamed line, so that an error (or the shell prompt) starts on its own.
          process.stdout.write('\n');
        }
      });
    });
