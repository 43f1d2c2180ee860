import { Linear, Module, normalInit } from '@tessera/nn';
import { checkOptions, type Device, getDefaultDevice, type Tensor } from '@tessera/tensor-webgpu';
import {
  type ResolvedConfig,
  resolveConfig,
  seeder,
  type TransformerConfig,
  Trunk,
} from '@tessera/transformer';
import type { DiffusionLM } from './diffusion-lm.js';

/** Options of `MaskedDiffusionLM` besides the transformer's config. */
export interface MaskedDiffusionLMOptions {
  /** The mask token's id, in [0, vocabSize). */
  maskId: number;
}

/**
 * A masked diffusion language model, the mask predictor of LLaDA (Nie et al. 2025, §2.1) and
 * MDLM (Sahoo et al. 2024): the decoder's parts with the causal mask removed — a bidirectional
 * `Trunk` (token embeddings, pre-norm blocks with GQA attention and RoPE, the config's
 * feed-forward layer, a final norm) and an LM head (tied to the embedding or its own
 * `lm_head`). Parameter names are those of `DecoderLM` (Hugging Face Llama's), so the same
 * config builds an autoregressive model and a diffusion model of exactly the same parameters.
 */
export class MaskedDiffusionLM extends Module implements DiffusionLM {
  readonly config: ResolvedConfig;
  readonly maskId: number;
  readonly device: Device;
  model: Trunk;
  lm_head: Linear | undefined;

  /**
   * Builds the model of `config` on `device` (weights seeded by `config.seed`). Throws on a bad
   * config, unknown options, or a `maskId` outside the vocabulary, naming them.
   */
  constructor(
    config: TransformerConfig,
    options: MaskedDiffusionLMOptions,
    device: Device = getDefaultDevice(),
  ) {
    super();
    checkOptions('MaskedDiffusionLM', options, ['maskId']);
    this.config = resolveConfig(config);
    const { dModel, vocabSize, initStd, tiedEmbeddings, seed } = this.config;
    if (!Number.isInteger(options.maskId) || options.maskId < 0 || options.maskId >= vocabSize)
      throw new RangeError(
        `MaskedDiffusionLM: maskId must be an integer in [0, ${vocabSize}) (vocabSize), got ${options.maskId}`,
      );
    this.maskId = options.maskId;
    this.device = device;
    // DecoderLM's seed stream: a config initialises both models to the same weights.
    const next = seeder(seed);
    this.model = new Trunk(this.config, { causal: false }, device, next);
    this.lm_head = tiedEmbeddings
      ? undefined
      : new Linear(dModel, vocabSize, {
          bias: false,
          device,
          weight: normalInit([vocabSize, dModel], initStd, { device, seed: next() }),
        });
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  /** The longest canvas (positions the RoPE tables cover). */
  get maxSequenceLength(): number {
    return this.config.maxSeqLen;
  }

  /**
   * ids i32 [B, T] (the mask token where unknown; T ≤ maxSeqLen) → logits f32 [B, T, vocab]:
   * every position attends to every other. Throws on a wrong input, naming its shape.
   */
  forward(ids: Tensor): Tensor {
    const hidden = this.model.forward(this.model.embed(ids));
    return this.lm_head ? this.lm_head.forward(hidden) : this.model.embed_tokens!.attend(hidden);
  }

  /** Frees the parameters, their gradients and the RoPE tables; using the model after is an error. */
  override dispose(): void {
    this.model.dispose();
    super.dispose();
  }
}
