import { Command } from '@commander-js/extra-typings';
import { dllmEvalCommand } from './dllm-eval.js';
import { dllmGenerateCommand } from './dllm-generate.js';
import { dllmInfillCommand } from './dllm-infill.js';
import { dllmTasksCommand } from './dllm-tasks.js';
import { dllmTrainCommand } from './dllm-train.js';

export const dllmCommand = () =>
  new Command('dllm')
    .summary('a masked diffusion language model (LLaDA): train it, generate, fill in the middle')
    .description(
      'A masked diffusion LM generates by denoising a fully masked span in a fixed number of steps, several tokens per forward pass, and sees both sides of a gap. Its subcommands train one with the recipe and tokenizer of pretrain, sample from it, measure it against the autoregressive model, and run the benchmark tasks on it.',
    )
    .addCommand(dllmTrainCommand())
    .addCommand(dllmGenerateCommand())
    .addCommand(dllmInfillCommand())
    .addCommand(dllmEvalCommand())
    .addCommand(dllmTasksCommand());
