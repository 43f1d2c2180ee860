import type { TextCodec } from '@tessera/sampler';
import { checkOptions } from '@tessera/tensor-webgpu';
import {
  DENOISE_OPTION_KEYS,
  type DenoiseOptions,
  type DenoiseResult,
  denoise,
} from './denoise.js';
import type { DiffusionLM } from './diffusion-lm.js';

/** Options of `generate`: the span's length and how it is denoised. */
export interface DiffusionGenerateOptions extends DenoiseOptions {
  /** Tokens to generate (the masked span after the prompt). Default 64. */
  length?: number;
}

/** The generated tokens and the forward passes they took. */
export type DiffusionGeneration = { tokens: number[]; forwardPasses: number };

/**
 * Generates `length` tokens after `prompt` with a masked diffusion LM: the span starts all
 * masks and `denoise` fills it in `steps` steps, block after block (LLaDA's `generate`). Unlike
 * autoregressive decoding the length is fixed in advance and every step runs the model on the
 * whole canvas (no KV cache): the cost is `forwardPasses`, one per step — fewer than the tokens
 * when a step commits several. The prompt may be empty.
 *
 * @throws RangeError - as `denoise` (unknown options, a prompt id outside the vocabulary, a
 *   layout of blocks and steps that does not divide)
 */
export async function generate(
  model: DiffusionLM,
  prompt: readonly number[],
  options: DiffusionGenerateOptions = {},
): Promise<DiffusionGeneration> {
  checkOptions('generate', options, [...Object.keys(DENOISE_OPTION_KEYS), 'length']);
  const { length = 64, ...rest } = options;
  const r: DenoiseResult = await denoise(model, { left: [prompt], length }, rest);
  return { tokens: r.tokens[0]!, forwardPasses: r.forwardPasses };
}

/**
 * `generate` on text: encodes the prompt, generates, decodes, and cuts the text before the
 * first of `stopSequences` (the span has a fixed length, so a stop only trims it).
 */
export async function generateText(
  model: DiffusionLM,
  codec: TextCodec,
  prompt: string,
  options: DiffusionGenerateOptions & { stopSequences?: readonly string[] } = {},
): Promise<string> {
  const { stopSequences = [], ...rest } = options;
  const { tokens } = await generate(model, codec.encode(prompt), rest);
  return cutAtStops(codec.decode(tokens), stopSequences);
}

/** `text` up to the first occurrence of any stop sequence. */
export function cutAtStops(text: string, stops: readonly string[]): string {
  let end = text.length;
  for (const s of stops) {
    const at = s === '' ? -1 : text.indexOf(s);
    if (at >= 0) end = Math.min(end, at);
  }
  return text.slice(0, end);
}
