import { Option } from '@commander-js/extra-typings';
import type { DenoiseOptions } from '@tessera/dllm';
import { integer, numberIn } from '../command-options.js';

/** `--checkpoint`: a run folder written by `dllm train`. */
export const diffusionCheckpointOption = () =>
  new Option('--checkpoint <dir>', 'run folder written by dllm train').default('runs/dllm-tiny');

/** The options of denoising a span, shared by `dllm generate` and `dllm infill` (add each). */
export const denoiseFlags = {
  steps: () =>
    new Option(
      '--steps <n>',
      'denoising steps (default: one per token, or as many as --threshold needs)',
    ).argParser(integer(1)),
  threshold: () =>
    new Option(
      '--threshold <p>',
      "commit every masked position at least this confident (Fast-dLLM's parallel decoding)",
    ).argParser(numberIn({ above: 0, atMost: 1 })),
  remasking: () =>
    new Option('--remasking <kind>', 'which predictions a step keeps')
      .choices(['low-confidence', 'random'] as const)
      .default('low-confidence' as const),
  schedule: () =>
    new Option('--schedule <kind>', 'how many positions each step commits')
      .choices(['linear', 'cosine'] as const)
      .default('linear' as const),
  temperature: () =>
    new Option('--temperature <t>', 'softmax temperature of the proposals; 0 is greedy (LLaDA)')
      .argParser(numberIn({ atLeast: 0 }))
      .default(0),
  topK: () =>
    new Option('--top-k <k>', 'sample among the k most likely tokens').argParser(integer(1)),
  topP: () =>
    new Option(
      '--top-p <p>',
      'sample within the smallest set of probability p (nucleus)',
    ).argParser(numberIn({ above: 0, atMost: 1 })),
  seed: () =>
    new Option('--seed <n>', 'seed for sampling and random remasking')
      .argParser(integer(0))
      .default(0),
};

/** The parsed flags as `denoise` options. */
export function denoiseOptions(o: {
  steps?: number;
  threshold?: number;
  remasking: 'low-confidence' | 'random';
  schedule: 'linear' | 'cosine';
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
}): DenoiseOptions {
  return {
    steps: o.steps,
    threshold: o.threshold,
    remasking: o.remasking,
    schedule: o.schedule,
    temperature: o.temperature,
    topK: o.topK,
    topP: o.topP,
    seed: o.seed,
  };
}

/**
 * The block length `dllm generate` uses without `--block`: the whole span when the prompt and
 * the span fit the model's window, else the longest block of at most half the window that
 * divides the span (the sampler needs whole blocks; 1 always does).
 */
export function defaultBlockLength(length: number, promptLength: number, window: number): number {
  if (promptLength + length <= window) return length;
  for (let b = Math.min(length, Math.floor(window / 2)); b > 1; b--) if (length % b === 0) return b;
  return 1;
}
