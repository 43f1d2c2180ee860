import { Module } from '@tessera/nn';
import { checkOptions, type Device, getDefaultDevice, type Tensor } from '@tessera/tensor-webgpu';
import { type ResolvedConfig, resolveConfig, seeder, type TransformerConfig } from './config.js';
import { Trunk } from './trunk.js';

/**
 * The same blocks without the causal mask: contextual embeddings [B, T, dModel] (BERT-style
 * encoders for classification and retrieval, diffusion LMs). Put a head on it, e.g. a
 * `ClassificationHead` on the first token.
 */
export class Encoder extends Module {
  readonly config: ResolvedConfig;
  model: Trunk;

  constructor(config: TransformerConfig, device: Device = getDefaultDevice()) {
    super();
    this.config = resolveConfig(config);
    this.model = new Trunk(this.config, { causal: false }, device, seeder(this.config.seed));
  }

  /**
   * input (ids i32 [B, T] or embeddings f32 [B, T, dModel]) → hidden states [B, T, dModel];
   * `mask` is f32 [B, T], 1 for real tokens, 0 for padding.
   */
  forward(input: Tensor, options: { mask?: Tensor } = {}): Tensor {
    checkOptions('Encoder.forward', options, ['mask']);
    return this.model.forward(this.model.embed(input), options);
  }

  /** Frees the parameters, their gradients and the RoPE tables; using the encoder after is an error. */
  override dispose(): void {
    this.model.dispose();
    super.dispose();
  }
}
