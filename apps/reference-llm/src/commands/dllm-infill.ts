import { Command, Option } from '@commander-js/extra-typings';
import { infill } from '@tessera/dllm';
import { backendOption, integer, withDevice } from '../command-options.js';
import { denoiseFlags, denoiseOptions, diffusionCheckpointOption } from '../dllm/decode-options.js';
import { loadDiffusionCheckpoint } from '../dllm/load.js';

export const dllmInfillCommand = () =>
  new Command('infill')
    .summary('fill the middle: --length tokens between --prefix and --suffix')
    .description(
      "Fills a gap of --length tokens between a prefix and a suffix with a diffusion checkpoint: the gap is masked and denoised seeing both sides at every step. Context beyond the model's window is cropped (the prefix's end, the suffix's start). Prints the completed text, and the gap on standard error.",
    )
    .addOption(diffusionCheckpointOption())
    .requiredOption('--prefix <text>', 'the text before the gap')
    .requiredOption('--suffix <text>', 'the text after the gap')
    .addOption(new Option('--length <n>', 'tokens to fill').argParser(integer(1)).default(8))
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
        const encode = (s: string) => tokenizer.encode(s, { disallowedSpecial: [] });
        const r = await infill(model, encode(o.prefix), encode(o.suffix), {
          ...denoiseOptions(o),
          length: o.length,
        });
        const gap = tokenizer.decode(r.tokens);
        process.stdout.write(`${o.prefix}${gap}${o.suffix}\n`);
        console.error(
          `the gap: ${JSON.stringify(gap)} (${r.tokens.length} tokens, ${r.forwardPasses} forward passes)`,
        );
        model.dispose();
      });
    });
