import { Command, Option } from '@commander-js/extra-typings';
import { backendOption, integer, withDevice } from '../command-options.js';
import { diffusionCheckpointOption } from '../dllm/decode-options.js';
import { asDiffusionLanguageModel } from '../dllm/language-model.js';
import { loadDiffusionCheckpoint } from '../dllm/load.js';
import { runBuiltInTasks, taskFlags } from './tasks.js';

export const dllmTasksCommand = () =>
  new Command('tasks')
    .summary(
      'the built-in benchmark tasks on a diffusion checkpoint, as `tasks` runs them on an autoregressive one; writes DIR/tasks.json',
    )
    .description(
      "Runs the arithmetic task by greedy denoising (a span of the task's answer length after the question, --tokens-per-step tokens committed per forward pass) and the knowledge quiz by log-likelihood, each choice scored by the ELBO bound (Monte Carlo, --samples forward passes, the same masks for every choice). The bound is below the exact log-likelihood, so the quiz compares bounds, as LLaDA evaluates. Prints a Markdown table and writes DIR/tasks.json.",
    )
    .addOption(diffusionCheckpointOption())
    .addOption(taskFlags.fewshot())
    .addOption(taskFlags.limit())
    .addOption(taskFlags.seed())
    .addOption(
      new Option('--samples <n>', 'Monte Carlo samples of the bound per scored choice')
        .argParser(integer(1))
        .default(16),
    )
    .addOption(
      new Option('--tokens-per-step <k>', 'tokens committed per denoising step when generating')
        .argParser(integer(1))
        .default(1),
    )
    .addOption(backendOption())
    .action(async (o) => {
      await withDevice(o.backend, async (device) => {
        const { model, tokenizer } = loadDiffusionCheckpoint(o.checkpoint, device);
        const lm = asDiffusionLanguageModel(model, tokenizer, o.checkpoint, {
          samples: o.samples,
          tokensPerStep: o.tokensPerStep,
        });
        await runBuiltInTasks(lm, o.checkpoint, o);
        model.dispose();
      });
    });
