import { Linear, Module, normalInit } from '@tessera/nn';
import { checkOptions, type Device, gelu, type Tensor } from '@tessera/tensor-webgpu';

/** Options of `VisionProjector`. */
export interface VisionProjectorOptions {
  /** Width of the vision features (the ViT's dModel). */
  visionDim: number;
  /** Width of the language model's embeddings (its dModel). */
  textDim: number;
  /** Hidden width. Default `textDim`. */
  hidden?: number;
  /** Init std. Default 0.02. */
  std?: number;
  seed?: number;
  device?: Device;
}

/**
 * The bridge of a multimodal model (LLaVA-1.5, Liu et al., 2023): a two-layer GELU MLP mapping
 * vision features [..., visionDim] into a language model's embedding space [..., textDim], so
 * that image patches become tokens the decoder reads in front of the text
 * (`decoder.forward(cat([projector.forward(patches), decoder.model.embed(ids)], 1))`).
 * `linear_1` and `linear_2` are Hugging Face's `multi_modal_projector` names.
 */
export class VisionProjector extends Module {
  linear_1: Linear;
  linear_2: Linear;

  constructor(readonly options: VisionProjectorOptions) {
    super();
    checkOptions('VisionProjector', options, [
      'visionDim',
      'textDim',
      'hidden',
      'std',
      'seed',
      'device',
    ]);
    const { visionDim, textDim, device } = options;
    const hidden = options.hidden ?? textDim;
    const std = options.std ?? 0.02;
    const seed = options.seed ?? 0;
    for (const [name, value] of Object.entries({ visionDim, textDim, hidden }))
      if (!Number.isInteger(value) || value < 1)
        throw new RangeError(`VisionProjector: ${name} must be a positive integer, got ${value}`);
    const linear = (i: number, o: number, s: number) =>
      new Linear(i, o, { device, seed: s, weight: normalInit([o, i], std, { device, seed: s }) });
    this.linear_1 = linear(visionDim, hidden, seed * 2 + 1);
    this.linear_2 = linear(hidden, textDim, seed * 2 + 2);
  }

  /** features f32 [..., visionDim] → [..., textDim]. */
  forward(features: Tensor): Tensor {
    return this.linear_2.forward(gelu(this.linear_1.forward(features)));
  }
}
