import type { TextCodec } from '@tessera/sampler';
import { checkOptions } from '@tessera/tensor-webgpu';
import { DENOISE_OPTION_KEYS, type DenoiseOptions, denoise } from './denoise.js';
import type { DiffusionLM } from './diffusion-lm.js';
import type { DiffusionGeneration } from './generate.js';

/** Options of `infill`: the gap's length and how it is denoised. */
export interface InfillOptions extends DenoiseOptions {
  /** Tokens to fill between the prefix and the suffix. */
  length: number;
}

/**
 * The context that fits a window of `window` positions around a gap of `length`: the end of the
 * prefix and the start of the suffix, each given half the room (and what the other leaves).
 */
export function cropContext(
  prefix: readonly number[],
  suffix: readonly number[],
  length: number,
  window: number,
): { prefix: readonly number[]; suffix: readonly number[] } {
  const room = window - length;
  if (room < 0)
    throw new RangeError(
      `infill: a gap of ${length} tokens exceeds the model's window of ${window}`,
    );
  if (prefix.length + suffix.length <= room) return { prefix, suffix };
  const keepSuffix = Math.min(suffix.length, Math.max(Math.floor(room / 2), room - prefix.length));
  const keepPrefix = Math.min(prefix.length, room - keepSuffix);
  return {
    prefix: prefix.slice(prefix.length - keepPrefix),
    suffix: suffix.slice(0, keepSuffix),
  };
}

/**
 * Fill-in-the-middle: the `length` tokens between `prefix` and `suffix`, by denoising a masked
 * gap that sees both sides at every step (a diffusion LM is trained on every mask pattern, so
 * infilling needs no special training or sentinel tokens). When prefix + gap + suffix exceed the
 * model's window the context is cropped to fit (`cropContext`: the prefix's end, the suffix's
 * start).
 *
 * @throws RangeError - as `denoise`, or a gap longer than the model's window
 */
export async function infill(
  model: DiffusionLM,
  prefix: readonly number[],
  suffix: readonly number[],
  options: InfillOptions,
): Promise<DiffusionGeneration> {
  checkOptions('infill', options, [...Object.keys(DENOISE_OPTION_KEYS), 'length']);
  const { length, ...rest } = options;
  const window = model.maxSequenceLength ?? Number.POSITIVE_INFINITY;
  const context = cropContext(prefix, suffix, length, window);
  const r = await denoise(model, { left: [context.prefix], length, right: [context.suffix] }, rest);
  return { tokens: r.tokens[0]!, forwardPasses: r.forwardPasses };
}

/** `infill` on text: the gap's text between `prefix` and `suffix` (each encoded on its own). */
export async function infillText(
  model: DiffusionLM,
  codec: TextCodec,
  prefix: string,
  suffix: string,
  options: InfillOptions,
): Promise<string> {
  const { tokens } = await infill(model, codec.encode(prefix), codec.encode(suffix), options);
  return codec.decode(tokens);
}
