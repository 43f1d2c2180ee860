import { Dropout, LayerNorm, Module, RMSNorm, residualStd } from '@tessera/nn';
import { add, type Device, type Tensor } from '@tessera/tensor-webgpu';
import { Attention, type LayerContext } from './attention.js';
import type { ResolvedConfig } from './config.js';
import { type FeedForward, feedForward } from './ffn.js';

/** The config's pre-norm: RMSNorm (Llama) or LayerNorm (GPT-2). */
export function norm(c: ResolvedConfig, device: Device): RMSNorm | LayerNorm {
  return c.norm === 'rms'
    ? new RMSNorm(c.dModel, { eps: c.normEps, device })
    : new LayerNorm(c.dModel, { eps: c.normEps, device });
}

/** A pre-norm block: x + attn(norm(x)), then + mlp(norm(·)). Hugging Face Llama names. */
export class Block extends Module {
  input_layernorm: RMSNorm | LayerNorm;
  self_attn: Attention;
  post_attention_layernorm: RMSNorm | LayerNorm;
  mlp: FeedForward;
  private readonly drop: Dropout;

  constructor(
    c: ResolvedConfig,
    causal: boolean,
    layer: number,
    device: Device,
    seed: () => number,
  ) {
    super();
    this.input_layernorm = norm(c, device);
    this.self_attn = new Attention(c, causal, device, seed);
    this.post_attention_layernorm = norm(c, device);
    this.mlp = feedForward(c.ffn, {
      dModel: c.dModel,
      hidden: c.ffnHidden,
      layer,
      std: c.initStd,
      projStd: c.scaledInit ? residualStd(c.initStd, c.layers) : c.initStd,
      seed: seed(),
      device,
    });
    this.drop = new Dropout(c.dropout);
  }

  /** x [B, T, dModel] → [B, T, dModel]. */
  forward(x: Tensor, ctx: LayerContext): Tensor {
    const h = add(
      x,
      this.drop.forward(this.self_attn.forward(this.input_layernorm.forward(x), ctx)),
    );
    return add(h, this.drop.forward(this.mlp.forward(this.post_attention_layernorm.forward(h))));
  }
}
