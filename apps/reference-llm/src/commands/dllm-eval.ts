import { join } from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import { writeAtomic } from '../atomic-write.js';
import { backendOption, integer, withDevice } from '../command-options.js';
import { diffusionCheckpointOption } from '../dllm/decode-options.js';
import { evaluateDiffusion } from '../dllm/evaluate.js';
import { Progress } from '../progress.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export const dllmEvalCommand = () =>
  new Command('eval')
    .summary(
      'the diffusion run against the autoregressive one: bits per byte (ELBO bound) and fill-in-the-middle accuracy',
    )
    .description(
      "Scores a dllm run against a pretrain run of the same preset and data on the validation split: bits per byte — the diffusion model's ELBO bound (Monte Carlo, with its standard error over --repeats) against the autoregressive model's exact figure on the same windows — and fill-in-the-middle: gaps of --gaps tokens hidden in held-out text, restored by the diffusion model from both sides and by the autoregressive model from the prefix alone — and how much context the diffusion model uses (the cross-entropy of a masked token with every other token visible and with none, beside the autoregressive model's). Prints a Markdown table and writes DIR/dllm-eval.json.",
    )
    .addOption(diffusionCheckpointOption())
    .option('--ar <dir>', 'run folder of the autoregressive model (pretrain)', 'runs/tiny')
    .option(
      '--data <file>',
      'text whose validation split is scored (default: the one the run trained on)',
    )
    .addOption(
      new Option('--repeats <n>', 'independent passes of the bound over the split')
        .argParser(integer(2))
        .default(4),
    )
    .addOption(
      new Option('--spans <n>', 'held-out spans per gap length').argParser(integer(1)).default(256),
    )
    .option('--gaps <lengths>', 'gap lengths in tokens, comma-separated', '1,4,16')
    .addOption(backendOption())
    .action(async (o) => {
      const gapLengths = o.gaps.split(',').map((s) => Number(s.trim()));
      if (gapLengths.some((n) => !Number.isInteger(n) || n < 1))
        throw new Error(`--gaps ${o.gaps}: expected positive integers separated by commas`);
      const r = await withDevice(o.backend, (device) => {
        const bars = new Map<string, Progress>();
        return evaluateDiffusion(o.checkpoint, {
          ar: o.ar,
          data: o.data,
          repeats: o.repeats,
          spans: o.spans,
          gapLengths,
          device,
          onProgress: (what, done, total) => {
            if (!bars.has(what)) bars.set(what, new Progress(what, total));
            bars.get(what)!.update(done);
          },
        });
      });
      writeAtomic(join(o.checkpoint, 'dllm-eval.json'), `${JSON.stringify(r, null, 1)}\n`);
      const { diffusion, autoregressive } = r.bitsPerByte;
      console.log(
        [
          `| validation (${r.tokens} tokens) | bits per byte |`,
          '|---|---:|',
          `| diffusion, ELBO bound (± standard error over ${diffusion.repeats.length} passes) | ≤ ${diffusion.bound.toFixed(3)} ± ${diffusion.standardError.toFixed(3)} |`,
          `| autoregressive, exact | ${autoregressive.toFixed(3)} |`,
          '',
          '| gap (tokens) | spans | diffusion: tokens restored | whole gaps | forward passes | autoregressive (prefix only): tokens restored | whole gaps |',
          '|---:|---:|---:|---:|---:|---:|---:|',
          ...r.fill.map(
            (f) =>
              `| ${f.length} | ${f.spans} | ${pct(f.diffusion.tokenAccuracy)} | ${pct(f.diffusion.exactMatch)} | ${f.diffusion.forwardPasses} | ${pct(f.autoregressive.tokenAccuracy)} | ${pct(f.autoregressive.exactMatch)} |`,
          ),
          '',
          `| the middle token of ${r.context.windows} windows | cross-entropy (nats) |`,
          '|---|---:|',
          `| diffusion, every other token visible | ${r.context.allVisible.toFixed(3)} |`,
          `| diffusion, no token visible | ${r.context.noneVisible.toFixed(3)} |`,
          `| autoregressive, the tokens before it | ${r.context.autoregressive.toFixed(3)} |`,
        ].join('\n'),
      );
    });
