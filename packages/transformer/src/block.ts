import { Dropout, LayerNorm, Module, RMSNorm, residualStd } from '@tessera/nn';
import { add, type Device, dropout, mul, ones, type Tensor } from '@tessera/tensor-webgpu';
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
  /** This block's stochastic-depth rate (`dropPath` scaled by depth). */
  private readonly dropPath: number;

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
    this.dropPath = c.layers > 1 ? (c.dropPath * layer) / (c.layers - 1) : 0;
  }

  /** x [B, T, dModel] → [B, T, dModel]. */
  forward(x: Tensor, ctx: LayerContext): Tensor {
    const h = add(x, this.branch(this.self_attn.forward(this.input_layernorm.forward(x), ctx)));
    return add(h, this.branch(this.mlp.forward(this.post_attention_layernorm.forward(h))));
  }

  /** A residual branch's output [B, T, dModel] after dropout and, in training, stochastic depth. */
  private branch(y: Tensor): Tensor {
    const out = this.drop.forward(y);
    if (!this.training || this.dropPath === 0) return out;
    // One keep-or-drop per sample: dropout of ones [B, 1, 1] is 0 or 1/(1 − p).
    const keep = dropout(ones([y.shape[0]!, 1, 1], { device: y.device }), this.dropPath);
    return mul(out, keep);
  }
}
