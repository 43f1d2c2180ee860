import type { Device, Tensor } from '@tessera/tensor-webgpu';

/**
 * A model that gives every position one number: a reward model (Bradley–Terry) or a PPO value
 * model — a transformer trunk with a scalar head (`@tessera/transformer`'s `Trunk` and
 * `ScalarHead`, as Hugging Face's `…ForSequenceClassification` with one label). Position t's
 * score reads `ids[b, 0..t]` only (causal attention), so right padding never changes the score of
 * a real token.
 */
export interface ScalarModel {
  /** The device the model's parameters live on; inputs are created there. */
  readonly device: Device;
  /** ids i32 [B, T] → scores f32 [B, T]: entry [b, t] scores the prefix `ids[b, 0..t]`. */
  forward(ids: Tensor): Tensor;
}
