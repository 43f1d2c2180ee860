import { Command, Option } from '@commander-js/extra-typings';
import { generate } from '@tessera/dllm';
import { backendOption, integer, withDevice } from '../command-options.js';
import {
  defaultBlockLength,
  denoiseFlags,
  denoiseOptions,
  diffusionCheckpointOption,
} from '../dllm/decode-options.js';
import { loadDiffusionCheckpoint } from '../dllm/load.js';

export const dllmGenerateCommand = () =>
  new Command('generate')
    .summary('sample a fixed-length span from a diffusion checkpoint in a number of steps')
    .description(
      "Generates --length tokens after the prompt by denoising a fully masked span: each step runs the model once and commits the most confident predictions (or, with --threshold, every one confident enough). --block decodes the span in semi-autoregressive blocks, left to right; when the prompt and the span exceed the model's window, blocks slide it (default: half the window). Prints the text, and the forward passes it took on standard error.",
    )
    .addOption(diffusionCheckpointOption())
    .option('--prompt <text>', 'the text to continue', '\n')
    .addOption(new Option('--length <n>', 'tokens to generate').argParser(integer(1)).default(64))
    .addOption(
      new Option(
        '--block <n>',
        "block length (default: the whole span when it fits the model's window with the prompt, else half the window)",
      ).argParser(integer(1)),
    )
    .option('--show-steps', 'print the span after every step on standard error (░ = still masked)')
    .addOption(denoiseFlags.steps())
    .addOption(denoiseFlags.threshold())
    .addOption(denoiseFlags.remasking())
    .addOption(denoiseFlags.schedule())
    .addOption(denoiseFlags.temperature())
    .addOption(denoiseFlags.topK())
    .addOption(denoiseFlags.topP())
    .addOption(denoiseFlags.seed())
    .addOption(backendOption())
    .action(async (o) => {
      await withDevice(o.backend, async (device) => {
        const { model, tokenizer } = loadDiffusionCheckpoint(o.checkpoint, device);
        const prompt = tokenizer.encode(o.prompt, { disallowedSpecial: [] });
        const window = model.maxSequenceLength;
        const block = o.block ?? defaultBlockLength(o.length, prompt.length, window);
        const show = (ids: readonly number[]) =>
          ids.map((id) => (id === model.maskId ? '░' : tokenizer.decode([id]))).join('');
        const started = performance.now();
        const r = await generate(model, prompt, {
          ...denoiseOptions(o),
          length: o.length,
          blockLength: block,
          onStep: o.showSteps
            ? ([span]) => process.stderr.write(`${show(span!)}\n---\n`)
            : undefined,
        });
        const ms = performance.now() - started;
        process.stdout.write(`${o.prompt}${tokenizer.decode(r.tokens)}\n`);
        console.error(
          `${r.tokens.length} tokens in ${r.forwardPasses} forward passes (${(r.forwardPasses / r.tokens.length).toFixed(3)} per token, blocks of ${block}), ${Math.round(ms)} ms`,
        );
        model.dispose();
      });
    });
