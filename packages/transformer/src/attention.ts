import { attention, decodeAttention, type KVCache } from '@tessera/attention-flash';
import { Linear, Module, normalInit, residualStd } from '@tessera/nn';
import {
  arange,
  type Device,
  le,
  matmul,
  mul,
  reshape,
  softmax,
  type Tensor,
  transpose,
  where,
} from '@tessera/tensor-webgpu';
import type { ResolvedConfig } from './config.js';

/**
 * How queries and keys learn their positions: a rotation of x [B, heads, T, headDim] by each
 * position's angles. `Rope` of `@tessera/rope` is one (1-D RoPE); a vision model passes 2-D RoPE
 * over its patch grid. `positions` (i32, as `Rope.apply` takes them) come with a KV cache.
 */
export interface Rotary {
  apply(x: Tensor, options?: { positions?: Tensor }): Tensor;
}

/** What a block's forward pass is given besides its input. */
export interface LayerContext {
  /** The rotation of queries and keys (the model's RoPE); none when absent (absolute positions). */
  rope?: Rotary;
  /** i32 positions [n, T] of the input rows (decoding with a cache, or packing); default 0..T−1. */
  positions?: Tensor;
  /** This layer's KV cache: the input holds only the new positions of the rows `rows`. */
  cache?: KVCache;
  /** Cache rows the input's rows belong to (default: every row, in order). */
  rows?: readonly number[];
  /** f32 [B, keys]: 1 keeps a key, 0 masks it (padding). */
  mask?: Tensor;
  /** f32 [B, T] document ids of packed sequences (attention stays within a document). */
  documentIds?: Tensor;
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
    const { heads, headDim } = this.c;
    const { q, k, v } = this.project(x, ctx);
    let out: Tensor;
    if (ctx.cache) {
      ctx.cache.append(k, v, { rows: ctx.rows });
      out = decodeAttention(q, ctx.cache, {
        causal: this.causal,
        rows: ctx.rows,
        keyPaddingMask: ctx.mask,
      });
    } else {
      out = attention(q, k, v, {
        causal: this.causal,
        keyPaddingMask: ctx.mask,
        documentIds: ctx.documentIds,
      });
    }
    return this.o_proj.forward(reshape(transpose(out, 1, 2), [b, t, heads * headDim]));
  }

  /**
   * The attention weights of x [B, T, dModel]: softmax(q·kᵀ/√headDim) f32 [B, heads, T, T], row
   * i the weights query i gives each key (causal or bidirectional as the layer, `ctx.mask`
   * applied, rows summing to 1). For analysis, e.g. attention rollout (Abnar & Zuidema, 2020);
   * `forward` never materialises them. Throws with a KV cache.
   */
  probabilities(x: Tensor, ctx: LayerContext): Tensor {
    if (ctx.cache)
      throw new Error('Attention.probabilities: not with a KV cache; pass the whole sequence');
    const [b, t] = x.shape as [number, number];
    const { heads, kvHeads, headDim } = this.c;
    const { q, k } = this.project(x, ctx);
    const group = heads / kvHeads; // GQA: each key head serves `group` query heads
    const scores = mul(
      matmul(
        reshape(q, [b, kvHeads, group, t, headDim]),
        transpose(reshape(k, [b, kvHeads, 1, t, headDim])),
      ),
      1 / Math.sqrt(headDim),
    ); // [B, kvHeads, group, T, T]
    let masked = scores;
    if (this.causal) {
      const i = reshape(arange(t, undefined, 1, { device: x.device, dtype: 'f32' }), [t, 1]);
      const j = reshape(arange(t, undefined, 1, { device: x.device, dtype: 'f32' }), [1, t]);
      masked = where(le(j, i), masked, -1e30);
    }
    if (ctx.mask) masked = where(reshape(ctx.mask, [b, 1, 1, 1, t]), masked, -1e30);
    return reshape(softmax(masked, -1), [b, heads, t, t]);
  }

  /** q [B, heads, T, headDim] and k, v [B, kvHeads, T, headDim], q and k rotated by their positions. */
  private project(x: Tensor, ctx: LayerContext): { q: Tensor; k: Tensor; v: Tensor } {
    const [b, t] = x.shape as [number, number];
    const { heads, kvHeads, headDim } = this.c;
    const split = (y: Tensor, h: number) => transpose(reshape(y, [b, t, h, headDim]), 1, 2);
    const at = ctx.positions ? { positions: ctx.positions } : {};
    const rotate = (y: Tensor) => (ctx.rope ? ctx.rope.apply(y, at) : y);
    return {
      q: rotate(split(this.q_proj.forward(x), heads)),
      k: rotate(split(this.k_proj.forward(x), kvHeads)),
      v: split(this.v_proj.forward(x), kvHeads),
    };
  }
}
