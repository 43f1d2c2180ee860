import { Embedding, type LayerNorm, Module, type RMSNorm } from '@tessera/nn';
import { Rope } from '@tessera/rope';
import { checkOptions, type Device, getDefaultDevice, type Tensor } from '@tessera/tensor-webgpu';
import type { LayerContext, Rotary } from './attention.js';
import { Block, norm } from './block.js';
import type { DecoderCache } from './cache.js';
import { type ResolvedConfig, resolveConfig, seeder, type TransformerConfig } from './config.js';

/** Options of `Trunk.forward`. */
export interface TrunkForwardOptions {
  /** f32 [B, keys]: 1 keeps a key, 0 masks it (padding); keys = T, or the cache rows' longest. */
  mask?: Tensor;
  /** KV caches: the input holds only the new positions of the rows `rows`. */
  cache?: DecoderCache;
  /** Cache rows the input's rows continue (default: every row of the cache, in order). */
  rows?: readonly number[];
  /**
   * i32 [B, T] position ids (Hugging Face's `position_ids`), for sequence packing: each packed
   * example restarts at 0. Default 0..T−1 (with a cache, each row's own length onward). Not with
   * a cache.
   */
  positions?: Tensor;
  /**
   * f32 [B, T] document ids for sequence packing: a position attends only positions of its own
   * document (attention-flash's `documentIds`: block-diagonal, varlen attention). Not with a
   * cache.
   */
  documentIds?: Tensor;
}

/** The keys of `TrunkForwardOptions`, for `checkOptions`. */
export const TRUNK_FORWARD_OPTION_KEYS: readonly (keyof TrunkForwardOptions)[] = [
  'mask',
  'cache',
  'rows',
  'positions',
  'documentIds',
];

/** How a trunk is built. */
export interface TrunkOptions {
  /** Causal (decoder) or bidirectional (encoder) attention. */
  causal: boolean;
  /** Whether the trunk has token embeddings (`embed_tokens`); false for patch or other inputs. Default true. */
  tokenEmbeddings?: boolean;
  /**
   * How queries and keys learn their positions. Default: 1-D RoPE from the config's `rope`
   * (tables built and freed by the trunk). `false`: no rotation (the input carries absolute
   * positions, as ViT's learned position embeddings). A `Rotary`: yours (2-D RoPE over a patch
   * grid), used as it is and left for you to free.
   */
  rotary?: Rotary | false;
}

/**
 * The shared body of every model (Hugging Face's `model.*` names): token embeddings, `layers`
 * pre-norm blocks and the final norm, with the RoPE tables. Language models, reward and value
 * models, encoders, classifiers, ViT and diffusion LMs put their own inputs and heads around it.
 */
export class Trunk extends Module {
  embed_tokens: Embedding | undefined;
  layers: Block[];
  norm: RMSNorm | LayerNorm;
  readonly config: ResolvedConfig;
  /** The rotation of queries and keys (`rotary`; RoPE tables are derived, so kept out of the state dict). */
  declare readonly rope: Rotary | undefined;
  /** The 1-D RoPE the trunk built (and frees), when `rotary` was not given. */
  readonly #ownRope: Rope | undefined;

  /**
   * Builds the trunk of `config` on `device`; `seed` draws each weight's seed (default: from
   * the config's seed, as the models do). Throws on a bad config or unknown options.
   */
  constructor(
    config: TransformerConfig,
    options: TrunkOptions,
    device: Device = getDefaultDevice(),
    seed: () => number = seeder(config.seed ?? 0),
  ) {
    super();
    checkOptions('Trunk', options, ['causal', 'tokenEmbeddings', 'rotary']);
    const c = resolveConfig(config);
    this.config = c;
    this.embed_tokens =
      (options.tokenEmbeddings ?? true)
        ? new Embedding(c.vocabSize, c.dModel, { device, std: c.initStd, seed: seed() })
        : undefined;
    this.layers = Array.from(
      { length: c.layers },
      (_, i) => new Block(c, options.causal, i, device, seed),
    );
    this.norm = norm(c, device);
    const { theta, scaling, convention } = c.rope;
    const own =
      options.rotary === undefined
        ? new Rope({
            dim: c.headDim,
            theta,
            scaling,
            convention,
            maxPositions: c.maxSeqLen,
            device,
          })
        : undefined;
    const rope = options.rotary === undefined ? own : options.rotary || undefined;
    Object.defineProperty(this, 'rope', { value: rope, enumerable: false });
    this.#ownRope = own;
  }

  /**
   * The trunk's input from ids i32 [B, T] (their token embeddings) or from embeddings f32
   * [B, T, dModel] (returned as they are, e.g. vision tokens prepended to text). Throws on
   * anything else, naming the shape and dtype.
   */
  embed(input: Tensor): Tensor {
    const { dModel } = this.config;
    if (input.dtype === 'i32' && input.rank === 2) {
      if (!this.embed_tokens)
        throw new TypeError(
          'Trunk: this trunk has no token embeddings; pass embeddings [B, T, dModel]',
        );
      return this.embed_tokens.forward(input);
    }
    if (input.dtype !== 'i32' && input.rank === 3 && input.shape[2] === dModel) return input;
    throw new TypeError(
      `Trunk: input must be i32 ids [batch, T] or embeddings [batch, T, ${dModel}], got ${input.dtype} [${input.shape.join(', ')}]`,
    );
  }

  /**
   * hidden [B, T, dModel] → the final norm of the last block's output, [B, T, dModel]. Without
   * a cache the T positions are 0..T−1 (at most `maxSeqLen`), or `positions` with `documentIds`
   * for packed sequences; with one, row i of the input continues cache row `rows[i]` at that
   * row's own length, and its keys and values are appended. Throws on unknown options, wrong
   * shapes and dtypes, or packing options with a cache, naming them.
   */
  forward(hidden: Tensor, options: TrunkForwardOptions = {}): Tensor {
    checkOptions('Trunk.forward', options, TRUNK_FORWARD_OPTION_KEYS);
    const { cache, mask, documentIds } = options;
    const [b, t] = hidden.shape as [number, number];
    if (!cache && options.rows)
      throw new TypeError('Trunk.forward: rows name cache rows; pass the cache too');
    if (cache && (options.positions || documentIds))
      throw new TypeError(
        'Trunk.forward: positions and documentIds are for packed sequences without a cache; a cache keeps its own positions',
      );
    const given = options.positions;
    if (given && (given.dtype !== 'i32' || given.shape.join() !== [b, t].join()))
      throw new RangeError(
        `Trunk.forward: positions must be i32 [${b}, ${t}], got ${given.dtype} [${given.shape.join(', ')}]`,
      );
    if (!cache && t > this.config.maxSeqLen)
      throw new RangeError(`Trunk: ${t} positions exceed maxSeqLen ${this.config.maxSeqLen}`);
    if (options.rows && options.rows.length !== b)
      throw new RangeError(
        `Trunk.forward: rows names ${options.rows.length} cache rows for a batch of ${b} (one per batch row)`,
      );
    const rows = cache ? (options.rows ?? Array.from({ length: b }, (_, i) => i)) : undefined;
    const cached = rows ? cache!.positions(rows, t, hidden.device) : undefined;
    const positions = cached ?? given;
    let x = hidden;
    this.layers.forEach((block, i) => {
      const ctx: LayerContext = {
        rope: this.rope,
        positions,
        cache: cache?.layers[i],
        rows,
        mask,
        documentIds,
      };
      x = block.forward(x, ctx);
    });
    const out = this.norm.forward(x);
    if (cached && !out.node) cached.dispose(); // no graph holds them
    return out;
  }

  /** Frees the parameters, their gradients (as `Module.dispose`) and the RoPE tables it built. */
  override dispose(): void {
    super.dispose();
    this.#ownRope?.dispose();
  }
}
