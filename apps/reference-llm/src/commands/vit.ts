import { Command } from '@commander-js/extra-typings';
import { vitCaptionCommand } from './vit-caption.js';
import { vitPredictCommand } from './vit-predict.js';
import { vitTrainCommand } from './vit-train.js';

/** `vit`: the Vision Transformer commands, one file each. */
export const vitCommand = () => {
  const vit = new Command('vit').summary(
    'Vision Transformer on MNIST: train (against an MLP baseline), predict, caption',
  );
  for (const make of [vitTrainCommand, vitPredictCommand, vitCaptionCommand]) {
    const command = make().showHelpAfterError('(add --help for usage)');
    if (!command.description()) command.description(command.summary());
    vit.addCommand(command);
  }
  return vit;
};
