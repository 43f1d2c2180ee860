import { attention, decodeAttention, type KVCache } from '@tessera/attention-flash';
import { Linear, Module, normalInit, residualStd } from '@tessera/nn';
import type { Rope } from '@tessera/rope';
import { type Device, reshape, type Tensor, transpose } from '@tessera/tensor-webgpu';
import type { ResolvedConfig } from './config.js';

/** What a block's forward pass is given besides its input. */
export interface LayerContext {
  /** The RoPE tables of the model. */
  rope: Rope;
  /** i32 positions [n, T] of the input rows (decoding with a cache); default 0..T−1. */
  positions?: Tensor;
  /** This layer's KV cache: the input holds only the new positions of the rows `rows`. */
  cache?: KVCache;
  /** Cache rows the input's rows belong to (default: every row, in order). */
  rows?: readonly number[];
  /** f32 [B, keys]: 1 keeps a key, 0 masks it (padding). */
  mask?: Tensor;
}

/** Multi-head self-attention with GQA and RoPE; projection names follow Hugging Face Llama. */
export class Attention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  o_proj: Linear;

  constructor(
    readonly c: ResolvedConfig,
    readonly causal: boolean,
    device: Device,
    seed: () => number,
  ) {
    super();
    const { dModel, heads, kvHeads, headDim, initStd } = c;
    const lin = (i: number, o: number, std: number) =>
      new Linear(i, o, {
        bias: false,
        device,
        weight: normalInit([o, i], std, { device, seed: seed() }),
      });
    this.q_proj = lin(dModel, heads * headDim, initStd);
    this.k_proj = lin(dModel, kvHeads * headDim, initStd);
    this.v_proj = lin(dModel, kvHeads * headDim, initStd);
    this.o_proj = lin(
      heads * headDim,
      dModel,
      c.scaledInit ? residualStd(initStd, c.layers) : initStd,
    );
  }

  /**
   * x [B, T, dModel] → [B, T, dModel]. Without a cache: flash attention over the T positions.
   * With one: the new keys and values are appended to the rows' caches, and the queries attend
   * everything their row holds (flash-decoding), each row at its own positions.
   */
  forward(x: Tensor, ctx: LayerContext): Tensor {
    const [b, t] = x.shape as [number, number];
    const { heads, kvHeads, headDim } = this.c;
    const split = (y: Tensor, h: number) => transpose(reshape(y, [b, t, h, headDim]), 1, 2); // [B, h, T, hd]
    const at = ctx.positions ? { positions: ctx.positions } : {};
    const q = ctx.rope.apply(split(this.q_proj.forward(x), heads), at);
    const k = ctx.rope.apply(split(this.k_proj.forward(x), kvHeads), at);
    const v = split(this.v_proj.forward(x), kvHeads);
    let out: Tensor;
    if (ctx.cache) {
      ctx.cache.append(k, v, { rows: ctx.rows });
      out = decodeAttention(q, ctx.cache, {
        causal: this.causal,
        rows: ctx.rows,
        keyPaddingMask: ctx.mask,
      });
    } else {
      out = attention(q, k, v, { causal: this.causal, keyPaddingMask: ctx.mask });
    }
    return this.o_proj.forward(reshape(transpose(out, 1, 2), [b, t, heads * headDim]));
  }
}
