import { Module } from '@tessera/nn';
import type { CausalLM } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import type { DecoderLM } from '@tessera/transformer';
import { VisionProjector, type ViT } from '@tessera/vit';

/** The caption of a digit: "a handwritten seven". */
export const DIGIT_WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
] as const;
export const captionOf = (label: number): string => `a handwritten ${DIGIT_WORDS[label]}`;

/**
 * A first multimodal model (LLaVA's recipe at the smallest scale): a frozen ViT turns an image
 * into patch features, a `VisionProjector` maps them into the language model's embedding space,
 * and the decoder reads `[image tokens] + text`. The trainable parameters are the projector's
 * and the decoder's (`parameters()`); the ViT is held outside the module tree.
 */
export class Captioner extends Module {
  projector: VisionProjector;
  lm: DecoderLM;
  readonly #vit: ViT;

  constructor(vit: ViT, lm: DecoderLM, projector?: VisionProjector) {
    super();
    this.#vit = vit;
    this.lm = lm;
    this.projector =
      projector ??
      new VisionProjector({
        visionDim: vit.config.dModel,
        textDim: lm.config.dModel,
        seed: 1,
        device: lm.device,
      });
  }

  get vit(): ViT {
    return this.#vit;
  }

  /** Image tokens: the ViT's patch features (class token left out) projected, [B, patches, lm dModel]. */
  imageTokens(images: T.Tensor): T.Tensor {
    const features = T.noGrad(() =>
      T.tidy(() => T.contiguous(T.slice(this.#vit.hidden(images), 1, 1))),
    );
    return this.projector.forward(features);
  }

  /** Logits [B, patches + T, vocab] of `[image tokens] + ids`: ids i32 [B, T]. */
  forward(images: T.Tensor, ids: T.Tensor): T.Tensor {
    return this.lm.forward(T.cat([this.imageTokens(images), this.lm.model.embed(ids)], 1));
  }

  /** Frees the projector and the decoder (the ViT is the caller's). */
  override dispose(): void {
    this.lm.dispose();
    super.dispose();
  }
}

/**
 * The decoder conditioned on one image, as the sampler's `CausalLM`: `forward(ids)` runs
 * `[image tokens] + ids` and returns the logits of the text positions only, so `generate` and
 * every sampling option work unchanged. It has no KV cache (each step reruns the window, short
 * for captions): a cache would have to hold the image tokens the sampler does not know about.
 */
export function imageConditioned(
  captioner: Captioner,
  image: T.Tensor,
): CausalLM & { dispose(): void } {
  const prefix = T.noGrad(() => captioner.imageTokens(image)); // [1, N, d]
  const [, n, d] = prefix.shape as [number, number, number];
  const { lm } = captioner;
  return {
    vocabSize: lm.vocabSize,
    device: lm.device,
    maxSequenceLength: lm.maxSequenceLength - n,
    forward(ids: T.Tensor): T.Tensor {
      const b = ids.shape[0]!;
      const hidden = T.cat([T.expand(prefix, [b, n, d]), lm.model.embed(ids)], 1);
      return T.slice(lm.forward(hidden), 1, n);
    },
    dispose: () => prefix.dispose(),
  };
}
