import { dllmCommand } from './dllm.js';
import { evalCommand } from './eval.js';
import { generateCommand } from './generate.js';
import { pretrainCommand } from './pretrain.js';
import { profileCommand } from './profile.js';
import { scalingCommand } from './scaling.js';
import { tasksCommand } from './tasks.js';

/** Every command, in the order `--help` and the README list them: adding a command is one file and one line here. */
export const COMMANDS = [
  pretrainCommand,
  generateCommand,
  evalCommand,
  tasksCommand,
  profileCommand,
  dllmCommand,
  scalingCommand,
];
