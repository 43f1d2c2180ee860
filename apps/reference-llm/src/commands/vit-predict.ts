import { existsSync, writeFileSync } from 'node:fs';
import { Command, Option } from '@commander-js/extra-typings';
import { backendOption, withDevice } from '../command-options.js';
import { type DigitImage, digitPng, mnistDigit, readPngDigit } from '../digit-image.js';
import { readMnist, splitDigits } from '../mnist.js';
import { readVit } from '../vit-checkpoint.js';
import { formatPrediction, predictDigit } from '../vit-predict.js';

export const vitPredictCommand = () =>
  new Command('predict')
    .summary('the class of a digit and the probability of each, from a vit train checkpoint')
    .description(
      'Reads a digit — a PNG file of the size the model reads (28×28 for MNIST; colour becomes grey, dark ink on a light background is inverted), or the index of a digit of the bundled MNIST file — and prints the predicted class and the probability of every class. A PNG is decoded by pngjs.',
    )
    .argument('<image>', 'a PNG file, or the index (0–9999) of a digit of the bundled MNIST file')
    .addOption(
      new Option('--checkpoint <dir>', 'run folder written by vit train').default('runs/vit'),
    )
    .option(
      '--save <file>',
      'also write the digit read as a PNG (e.g. an MNIST digit, for generate --image)',
    )
    .addOption(backendOption())
    .action(async (image, o) => {
      await withDevice(o.backend, async (device) => {
        const { vit, ckpt } = readVit(o.checkpoint, device);
        const [rows, cols] = vit.config.imageSize;
        let digit: DigitImage;
        if (/^\d+$/.test(image) && !existsSync(image)) {
          const digits = readMnist();
          digit = mnistDigit(digits, Number(image));
          const { train, test, seed } = ckpt.state.split;
          const held = splitDigits(digits.count, { train, test }, seed).test.includes(
            Number(image),
          );
          console.log(
            `${digit.source} (label ${digit.label}, ${held ? 'held out from training' : 'in the training split'})`,
          );
        } else {
          digit = readPngDigit(image, rows, cols);
          console.log(image);
        }
        for (const line of formatPrediction(await predictDigit(vit, digit))) console.log(line);
        if (o.save) writeFileSync(o.save, digitPng(digit));
        vit.dispose();
      });
    });
