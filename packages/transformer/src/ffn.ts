import { MLP, type Module, SwiGLU } from '@tessera/nn';
import type { Device, Tensor } from '@tessera/tensor-webgpu';

/**
 * What a block needs from its feed-forward layer: [B, T, dModel] → [B, T, dModel]. A layer may
 * also contribute an auxiliary loss (a mixture of experts' load-balancing loss): `auxLoss()`
 * returns the scalar of its last forward pass, which the model collects (`auxLosses`).
 */
export interface FeedForward extends Module {
  forward(x: Tensor): Tensor;
  /** The auxiliary loss of the last forward pass (a scalar tensor), if the layer has one. */
  auxLoss?(): Tensor | undefined;
}

/** What a feed-forward constructor is given: the sizes and init of one block's layer. */
export interface FeedForwardSpec {
  dModel: number;
  /** `ffnHidden` of the config. */
  hidden: number;
  /** Index of the block (0-based), e.g. to make only some layers experts. */
  layer: number;
  /** Init std of the input projections, and of the projection into the residual stream. */
  std: number;
  projStd: number;
  /** A seed for this layer's weights, derived from the config seed. */
  seed: number;
  device: Device;
}

/** Builds one block's feed-forward layer: the config's `ffn` when it is a function. */
export type FeedForwardFactory = (spec: FeedForwardSpec) => FeedForward;

/**
 * The one factory of feed-forward layers: `swiglu` → Llama's gated `SwiGLU` (`gate_proj`,
 * `up_proj`, `down_proj`), `gelu` → GPT-2's `MLP` (`c_fc`, `c_proj`), a function → whatever it
 * builds (a mixture of experts from `@tessera/moe`, or your own).
 */
export function feedForward(
  kind: 'swiglu' | 'gelu' | FeedForwardFactory,
  spec: FeedForwardSpec,
): FeedForward {
  if (typeof kind === 'function') return kind(spec);
  const { dModel, hidden, device, seed, std, projStd } = spec;
  return kind === 'swiglu'
    ? new SwiGLU(dModel, hidden, { device, seed, std, projStd })
    : new MLP(dModel, hidden, { device, seed, std, projStd, activation: 'gelu' });
}
