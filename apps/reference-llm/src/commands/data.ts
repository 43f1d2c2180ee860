import { Command, Option } from '@commander-js/extra-typings';
import { integer, seedOption } from '../command-options.js';
import { DEFAULT_DATA, readText, splitText } from '../data.js';
import { writeTuningData } from '../tuning/data-files.js';

export const dataCommand = () =>
  new Command('data')
    .summary(
      'write the generated tuning data as JSONL: instruction examples and preference pairs, each with a held-out split',
    )
    .description(
      'Generates verifiable instruction tasks (two-digit addition with a worked line, comparing numbers, reversing and sorting three words, the first or last word of a line of the training text), each reply ending "Answer: …", and preference pairs whose chosen reply is the correct one and whose rejected reply is wrong or badly formatted. Deterministic from --seed. The files show the format the tuning stages read with --data and --heldout: {"messages": [...]} and {"prompt", "chosen", "rejected"}.',
    )
    .requiredOption(
      '--out <dir>',
      'folder for sft-train.jsonl, sft-heldout.jsonl, pairs-train.jsonl, pairs-heldout.jsonl',
    )
    .addOption(seedOption('generating the data').default(1))
    .addOption(
      new Option('--train <n>', 'training examples (and pairs)')
        .argParser(integer(1))
        .default(2000),
    )
    .addOption(
      new Option('--heldout <n>', 'held-out examples (and pairs)')
        .argParser(integer(1))
        .default(200),
    )
    .option(
      '--text <file>',
      "text whose lines the line task asks about (default: the bundled tinyshakespeare's training split)",
    )
    .action((o) => {
      const { train } = splitText(readText(o.text ?? DEFAULT_DATA));
      const sizes = { train: o.train, heldout: o.heldout };
      const paths = writeTuningData(o.out, o.seed, train, { sft: sizes, pairs: sizes });
      for (const path of Object.values(paths)) console.log(path);
    });
