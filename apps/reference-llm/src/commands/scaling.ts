import { Command } from '@commander-js/extra-typings';
import { scalingTable } from '../presets.js';

export const scalingCommand = () =>
  new Command('scaling')
    .summary('the presets: parameters, tokens (20 per parameter), steps, 6·N·D FLOPs')
    .action(() => {
      console.log(scalingTable());
    });
