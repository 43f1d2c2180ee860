import { Linear, Module, normalInit } from '@tessera/nn';
import { checkOptions, type Device, getDefaultDevice, type Tensor } from '@tessera/tensor-webgpu';
import { auxLosses } from './aux-loss.js';
import { DecoderCache } from './cache.js';
import { type ResolvedConfig, resolveConfig, seeder, type TransformerConfig } from './config.js';
import { TRUNK_FORWARD_OPTION_KEYS, Trunk, type TrunkForwardOptions } from './trunk.js';

/** Options of `DecoderLM.forward`: a cache and its rows, or a padding mask, or packing's positions and document ids. */
export type DecoderForwardOptions = TrunkForwardOptions;

/**
 * A GPT/Llama-style decoder language model: a causal `Trunk` (token embeddings, `layers` pre-norm
 * blocks with GQA attention and RoPE, the config's feed-forward layer, a final norm) and an LM
 * head (tied to the embedding or its own `lm_head`). Parameter names are Hugging Face Llama's,
 * so a safetensors checkpoint of the same shape loads with `load()`. Implements the sampler's
 * `CausalLM` with a `DecoderCache`.
 */
export class DecoderLM extends Module {
  readonly config: ResolvedConfig;
  model: Trunk;
  lm_head: Linear | undefined;
  readonly device: Device;

  constructor(config: TransformerConfig, device: Device = getDefaultDevice()) {
    super();
    this.config = resolveConfig(config);
    this.device = device;
    const seed = seeder(this.config.seed);
    this.model = new Trunk(this.config, { causal: true }, device, seed);
    const { dModel, vocabSize, initStd, tiedEmbeddings } = this.config;
    this.lm_head = tiedEmbeddings
      ? undefined
      : new Linear(dModel, vocabSize, {
          bias: false,
          device,
          weight: normalInit([vocabSize, dModel], initStd, { device, seed: seed() }),
        });
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  /** The longest context (positions the RoPE tables and caches cover). */
  get maxSequenceLength(): number {
    return this.config.maxSeqLen;
  }

  /**
   * input → logits [B, T, vocab]: input is ids i32 [B, T] or embeddings f32 [B, T, dModel].
   * With `cache`, the input holds the new tokens of the cache rows `rows` (default every row),
   * each continuing at its own length. Throws on unknown options, a wrong input, or positions
   * past `maxSeqLen` (or a cache row's `maxLength`), naming them.
   */
  forward(input: Tensor, options: DecoderForwardOptions = {}): Tensor {
    return this.logits(this.hidden(input, options));
  }

  /** input → the trunk's final hidden states [B, T, dModel] (for value heads on the LM). */
  hidden(input: Tensor, options: DecoderForwardOptions = {}): Tensor {
    checkOptions('DecoderLM.forward', options, TRUNK_FORWARD_OPTION_KEYS);
    return this.model.forward(this.model.embed(input), options);
  }

  /** The LM head: hidden [..., dModel] → logits [..., vocab]. */
  logits(hidden: Tensor): Tensor {
    return this.lm_head ? this.lm_head.forward(hidden) : this.model.embed_tokens!.attend(hidden);
  }

  /** KV caches for `rows` sequences of up to `maxLength` positions each (at most maxSeqLen). */
  createCache(rows: number, maxLength: number): DecoderCache {
    const { kvHeads, headDim, layers, maxSeqLen } = this.config;
    return new DecoderCache({
      rows,
      maxLength: Math.min(maxLength, maxSeqLen),
      layers,
      kvHeads,
      headDim,
      device: this.device,
    });
  }

  /** Auxiliary losses of the last forward pass, by layer (e.g. MoE load balancing); see `auxLosses`. */
  auxLosses(): Record<string, Tensor> {
    return auxLosses(this);
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

  /** Frees the parameters, their gradients and the RoPE tables; using the model after is an error. */
  override dispose(): void {
    this.model.dispose();
    super.dispose();
  }
}
