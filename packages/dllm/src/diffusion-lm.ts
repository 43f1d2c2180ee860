import type { Device, Tensor } from '@tessera/tensor-webgpu';

/**
 * What the sampler, the fill-in-the-middle and the likelihood bound need from a masked diffusion
 * language model (`MaskedDiffusionLM` implements it; any bidirectional mask predictor can).
 * Unlike the sampler's `CausalLM`, position t's logits predict the clean token AT t (not the
 * next one), from every position of the sequence, and the model has no KV cache: each denoising
 * step is one forward pass over the whole canvas.
 */
export interface DiffusionLM {
  /** Logits per position; the mask token is one of them (never a target, never sampled). */
  readonly vocabSize: number;
  /** The device the model's parameters live on; inputs are created there. */
  readonly device: Device;
  /** The id of the mask token (`[MASK]`, LLaDA's 126336; `<|mdm_mask|>` in the reference app). */
  readonly maskId: number;
  /** The longest canvas the model takes (RoPE tables); longer generations slide a window. */
  readonly maxSequenceLength?: number;
  /**
   * ids i32 [B, T], the mask token where a token is unknown → logits f32 [B, T, vocabSize]:
   * entry [b, t] scores the clean token at position t given every position of row b.
   */
  forward(ids: Tensor): Tensor;
}
