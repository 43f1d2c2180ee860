import { attention, decodeAttention, KVCache } from '@tessera/attention-flash';
import {
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  MLP,
  Module,
  normalInit,
  RMSNorm,
  residualStd,
  SwiGLU,
} from '@tessera/nn';
import { Rope } from '@tessera/rope';
import {
  add,
  type Device,
  getDefaultDevice,
  reshape,
  type Tensor,
  transpose,
} from '@tessera/tensor-webgpu';
import { type ResolvedConfig, resolveConfig, type TransformerConfig } from './config.js';

/** Per-layer KV caches of one generation. */
export interface DecoderCache {
  layers: KVCache[];
}

/** The RoPE tables of a config, built once per model. */
function ropeFor(c: ResolvedConfig, device: Device): Rope {
  const { theta, scaling, convention } = c.rope;
  return new Rope({
    dim: c.headDim,
    theta,
    scaling,
    convention,
    maxPositions: c.maxSeqLen,
    device,
  });
}

/** Derived data (the RoPE tables) is not state: a non-enumerable property stays out of the state dict. */
function hideFromState(m: Module, key: string): void {
  Object.defineProperty(m, key, { enumerable: false });
}

/** Seeds for each weight, derived from the config seed, so a config always builds the same model. */
function seeder(base: number) {
  let n = 0;
  return () => base * 1000 + ++n;
}

function norm(c: ResolvedConfig, device: Device): RMSNorm | LayerNorm {
  return c.norm === 'rms'
    ? new RMSNorm(c.dModel, { eps: c.normEps, device })
    : new LayerNorm(c.dModel, { eps: c.normEps, device });
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

  /** x [B, T, dModel] → [B, T, dModel]; with a cache, x holds only the new positions. */
  forward(x: Tensor, rope: Rope, cache?: KVCache, padding?: Tensor): Tensor {
    const [b, t] = x.shape as [number, number];
    const { heads, kvHeads, headDim } = this.c;
    const split = (y: Tensor, h: number) => transpose(reshape(y, [b, t, h, headDim]), 1, 2); // [B, h, T, hd]
    const offset = cache?.length ?? 0;
    const q = rope.apply(split(this.q_proj.forward(x), heads), { offset });
    const k = rope.apply(split(this.k_proj.forward(x), kvHeads), { offset });
    const v = split(this.v_proj.forward(x), kvHeads);
    let out: Tensor;
    if (cache) {
      cache.append(k, v);
      out = decodeAttention(q, cache, { causal: this.causal });
    } else {
      out = attention(q, k, v, { causal: this.causal, keyPaddingMask: padding });
    }
    return this.o_proj.forward(reshape(transpose(out, 1, 2), [b, t, heads * headDim]));
  }
}

/** A pre-norm block: x + attn(norm(x)), then + mlp(norm(·)). */
export class Block extends Module {
  input_layernorm: RMSNorm | LayerNorm;
  self_attn: Attention;
  post_attention_layernorm: RMSNorm | LayerNorm;
  mlp: SwiGLU | MLP;
  private readonly drop: Dropout;

  constructor(c: ResolvedConfig, causal: boolean, device: Device, seed: () => number) {
    super();
    this.input_layernorm = norm(c, device);
    this.self_attn = new Attention(c, causal, device, seed);
    this.post_attention_layernorm = norm(c, device);
    const projStd = c.scaledInit ? residualStd(c.initStd, c.layers) : c.initStd;
    this.mlp =
      c.ffn === 'swiglu'
        ? new SwiGLU(c.dModel, c.ffnHidden, { device, seed: seed(), std: c.initStd, projStd })
        : new MLP(c.dModel, c.ffnHidden, {
            device,
            seed: seed(),
            std: c.initStd,
            projStd,
            activation: 'gelu',
          });
    this.drop = new Dropout(c.dropout);
  }

  forward(x: Tensor, rope: Rope, cache?: KVCache, padding?: Tensor): Tensor {
    const h = add(
      x,
      this.drop.forward(
        this.self_attn.forward(this.input_layernorm.forward(x), rope, cache, padding),
      ),
    );
    return add(h, this.drop.forward(this.mlp.forward(this.post_attention_layernorm.forward(h))));
  }
}

/** The trunk: embeddings, blocks, final norm (Hugging Face's `model.*` names). */
export class Trunk extends Module {
  embed_tokens: Embedding;
  layers: Block[];
  norm: RMSNorm | LayerNorm;

  constructor(c: ResolvedConfig, causal: boolean, device: Device, seed: () => number) {
    super();
    this.embed_tokens = new Embedding(c.vocabSize, c.dModel, {
      device,
      std: c.initStd,
      seed: seed(),
    });
    this.layers = Array.from({ length: c.layers }, () => new Block(c, causal, device, seed));
    this.norm = norm(c, device);
  }
}

/**
 * A GPT/Llama-style decoder language model: token embeddings, `layers` pre-norm blocks (causal
 * GQA attention with RoPE, SwiGLU or GELU MLP), a final norm and an output head (tied to the
 * embedding or its own). Parameter names are Hugging Face Llama's, so a safetensors checkpoint of
 * the same shape loads with `load()`. Implements the sampler's `CausalLM`.
 */
export class DecoderLM extends Module {
  readonly config: ResolvedConfig;
  model: Trunk;
  lm_head: Linear | undefined;
  readonly rope: Rope;
  readonly device: Device;

  constructor(config: TransformerConfig, device: Device = getDefaultDevice()) {
    super();
    this.config = resolveConfig(config);
    this.device = device;
    const seed = seeder(this.config.seed);
    this.model = new Trunk(this.config, true, device, seed);
    this.lm_head = this.config.tiedEmbeddings
      ? undefined
      : new Linear(this.config.dModel, this.config.vocabSize, {
          bias: false,
          device,
          weight: normalInit([this.config.vocabSize, this.config.dModel], this.config.initStd, {
            device,
            seed: seed(),
          }),
        });
    this.rope = ropeFor(this.config, device);
    hideFromState(this, 'rope');
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  /** The longest context (positions the RoPE tables and caches cover). */
  get maxSequenceLength(): number {
    return this.config.maxSeqLen;
  }

  /** ids [B, T] (i32) → logits [B, T, vocab]. With a cache, ids are the new tokens only. */
  forward(ids: Tensor, cache?: unknown): Tensor {
    if (ids.rank !== 2 || ids.dtype !== 'i32')
      throw new TypeError(
        `DecoderLM: ids must be i32 [batch, T], got ${ids.dtype} [${ids.shape.join(', ')}]`,
      );
    const c = cache as DecoderCache | undefined;
    const offset = c?.layers[0]?.length ?? 0;
    if (offset + ids.shape[1]! > this.config.maxSeqLen) {
      throw new RangeError(
        `DecoderLM: ${offset + ids.shape[1]!} positions exceed maxSeqLen ${this.config.maxSeqLen}`,
      );
    }
    let x = this.model.embed_tokens.forward(ids);
    this.model.layers.forEach((block, i) => {
      x = block.forward(x, this.rope, c?.layers[i]);
    });
    const h = this.model.norm.forward(x);
    return this.lm_head ? this.lm_head.forward(h) : this.model.embed_tokens.attend(h);
  }

  /** KV caches for incremental decoding of `batch` sequences. */
  createCache(batch: number, maxLength: number): DecoderCache {
    const { kvHeads, headDim } = this.config;
    return {
      layers: this.model.layers.map(
        () =>
          new KVCache({
            batch,
            kvHeads,
            headDim,
            capacity: Math.min(maxLength, this.config.maxSeqLen),
            device: this.device,
          }),
      ),
    };
  }

  /** Non-embedding... all parameters, as `numParameters()` counts them (tied weights once). */
  get parameterCount(): number {
    return this.numParameters();
  }

  /**
   * Training FLOPs per token at context `seqLen`: 6·N for the weights (forward + backward) plus
   * the attention scores and weighted sum, 12·layers·seqLen·(heads·headDim) (Kaplan et al.).
   * N excludes the embedding lookup (not a matmul) but includes the output head.
   */
  flopsPerToken(seqLen: number): { total: number; weights: number; attention: number } {
    const { layers, heads, headDim, vocabSize, dModel, tiedEmbeddings } = this.config;
    const embedding = vocabSize * dModel;
    const n = this.numParameters() - (tiedEmbeddings ? 0 : embedding);
    const weights = 6 * n;
    const attentionFlops = 12 * layers * seqLen * heads * headDim;
    return { total: weights + attentionFlops, weights, attention: attentionFlops };
  }
}

/** The same blocks without the causal mask: contextual embeddings [B, T, dModel] (for dllm, vit, rag). */
export class Encoder extends Module {
  readonly config: ResolvedConfig;
  model: Trunk;
  readonly rope: Rope;

  constructor(config: TransformerConfig, device: Device = getDefaultDevice()) {
    super();
    this.config = resolveConfig(config);
    this.model = new Trunk(this.config, false, device, seeder(this.config.seed));
    this.rope = ropeFor(this.config, device);
    hideFromState(this, 'rope');
  }

  /** ids [B, T] → hidden states [B, T, dModel]; `padding` is f32 [B, T], 1 for real tokens. */
  forward(ids: Tensor, padding?: Tensor): Tensor {
    let x = this.model.embed_tokens.forward(ids);
    for (const block of this.model.layers) x = block.forward(x, this.rope, undefined, padding);
    return this.model.norm.forward(x);
  }
}
