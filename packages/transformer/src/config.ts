import type { RopeScaling } from '@tessera/rope';
import { checkOptions } from '@tessera/tensor-webgpu';
import type { FeedForwardFactory } from './ffn.js';

/** Everything that defines a decoder LM or an encoder's shape (the model file's config object). */
export interface TransformerConfig {
  vocabSize: number;
  /** Width of the residual stream. */
  dModel: number;
  layers: number;
  heads: number;
  /** Key/value heads (GQA); default `heads`. */
  kvHeads?: number;
  /** Per-head width; default dModel / heads. */
  headDim?: number;
  /**
   * The feed-forward layer of every block: `swiglu` (Llama), `gelu` (GPT-2 MLP), or a function
   * that builds one (e.g. a mixture of experts; see `FeedForwardFactory`). Default swiglu.
   */
  ffn?: 'swiglu' | 'gelu' | FeedForwardFactory;
  /** FFN hidden width; default 4·dModel (GELU, custom), ⌈8/3·dModel⌉ rounded up to 32 (SwiGLU). */
  ffnHidden?: number;
  /** Pre-norm type. Default rms. */
  norm?: 'rms' | 'layer';
  normEps?: number;
  /** RoPE base and scaling. */
  rope?: { theta?: number; scaling?: RopeScaling; convention?: 'half' | 'interleaved' };
  /** Share the embedding with the output head. Default false. */
  tiedEmbeddings?: boolean;
  /** Residual dropout while training. Default 0. */
  dropout?: number;
  /**
   * Stochastic depth while training (Huang et al., 2016, per branch as timm's `DropPath`): each
   * residual branch of block l is dropped for a whole sample with probability
   * dropPath·l/(layers − 1), rising linearly from 0 at the first block (DeiT's rule), and the
   * kept ones are scaled by 1/(1 − p). In [0, 1). Default 0.
   */
  dropPath?: number;
  /** Longest sequence (positions the RoPE tables cover). */
  maxSeqLen: number;
  /** Init std (GPT-2: 0.02); projections into the residual get std/√(2·layers) when `scaledInit`. */
  initStd?: number;
  scaledInit?: boolean;
  seed?: number;
}

/** A config with every default filled in, checked. */
export type ResolvedConfig = Required<Omit<TransformerConfig, 'rope'>> & {
  rope: Required<Pick<NonNullable<TransformerConfig['rope']>, 'theta' | 'convention'>> & {
    scaling?: RopeScaling;
  };
};

const CONFIG_KEYS: Record<keyof TransformerConfig, true> = {
  vocabSize: true,
  dModel: true,
  layers: true,
  heads: true,
  kvHeads: true,
  headDim: true,
  ffn: true,
  ffnHidden: true,
  norm: true,
  normEps: true,
  rope: true,
  tiedEmbeddings: true,
  dropout: true,
  dropPath: true,
  maxSeqLen: true,
  initStd: true,
  scaledInit: true,
  seed: true,
};

/**
 * Fills in the defaults and checks the config. Throws on unknown keys (in the config and in
 * `rope`), sizes that are not positive integers, kvHeads not dividing heads, an odd headDim, or
 * an unknown `ffn`, naming the key and the value.
 */
export function resolveConfig(c: TransformerConfig): ResolvedConfig {
  checkOptions('transformer config', c, Object.keys(CONFIG_KEYS));
  checkOptions('transformer config.rope', c.rope, ['theta', 'scaling', 'convention']);
  for (const key of ['vocabSize', 'dModel', 'layers', 'heads', 'maxSeqLen'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1)
      throw new RangeError(`transformer config: ${key} must be a positive integer, got ${c[key]}`);
  }
  const kvHeads = c.kvHeads ?? c.heads;
  if (c.heads % kvHeads !== 0)
    throw new RangeError(`transformer config: kvHeads (${kvHeads}) must divide heads (${c.heads})`);
  const headDim = c.headDim ?? c.dModel / c.heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0)
    throw new RangeError(
      `transformer config: headDim must be an even integer (dModel / heads = ${c.dModel / c.heads})`,
    );
  const ffn = c.ffn ?? 'swiglu';
  if (ffn !== 'swiglu' && ffn !== 'gelu' && typeof ffn !== 'function')
    throw new TypeError(
      `transformer config: ffn must be 'swiglu', 'gelu' or a function building the layer, got ${JSON.stringify(ffn)}`,
    );
  for (const key of ['dropout', 'dropPath'] as const) {
    const p = c[key] ?? 0;
    if (!(p >= 0 && p < 1))
      throw new RangeError(`transformer config: ${key} must be in [0, 1), got ${c[key]}`);
  }
  const ffnHidden =
    c.ffnHidden ?? (ffn === 'swiglu' ? Math.ceil((8 * c.dModel) / 3 / 32) * 32 : 4 * c.dModel);
  return {
    ...c,
    kvHeads,
    headDim,
    ffn,
    ffnHidden,
    norm: c.norm ?? 'rms',
    normEps: c.normEps ?? (c.norm === 'layer' ? 1e-5 : 1e-6),
    rope: {
      theta: c.rope?.theta ?? 10_000,
      convention: c.rope?.convention ?? 'half',
      scaling: c.rope?.scaling,
    },
    tiedEmbeddings: c.tiedEmbeddings ?? false,
    dropout: c.dropout ?? 0,
    dropPath: c.dropPath ?? 0,
    initStd: c.initStd ?? 0.02,
    scaledInit: c.scaledInit ?? true,
    seed: c.seed ?? 0,
  };
}

/** Seeds for each weight, derived from the config seed, so a config always builds the same model. */
export function seeder(base: number): () => number {
  let n = 0;
  return () => base * 1000 + ++n;
}
