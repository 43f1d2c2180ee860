import { Dropout, Module, normalInit, parameter } from '@tessera/nn';
import {
  add,
  cat,
  contiguous,
  type Device,
  expand,
  getDefaultDevice,
  mean,
  noGrad,
  reshape,
  slice,
  type Tensor,
  tidy,
} from '@tessera/tensor-webgpu';
import { ClassificationHead, type LayerContext, Trunk } from '@tessera/transformer';
import { type ResolvedViTConfig, resolveViTConfig, trunkConfig, type ViTConfig } from './config.js';
import { PatchEmbedding } from './patch-embedding.js';
import { PatchRope } from './patch-rope.js';
import { attentionRollout } from './rollout.js';

/**
 * The tokens a ViT's trunk reads (Hugging Face's `embeddings`): the learned class token, then one
 * token per patch, plus the learned positions when the config uses them, then dropout.
 */
export class ViTEmbeddings extends Module {
  patch_embeddings: PatchEmbedding;
  /** f32 [1, 1, dModel]. */
  cls_token: Tensor;
  /** f32 [1, 1 + patches, dModel]; absent with 2-D RoPE. */
  position_embeddings: Tensor | undefined;
  private readonly drop: Dropout;

  constructor(c: ResolvedViTConfig, device: Device, seed: () => number) {
    super();
    const std = c.initStd;
    this.patch_embeddings = new PatchEmbedding({
      channels: c.channels,
      patch: c.patchSize,
      dModel: c.dModel,
      std,
      seed: seed(),
      device,
    });
    this.cls_token = parameter(normalInit([1, 1, c.dModel], std, { device, seed: seed() }));
    this.position_embeddings =
      c.positions === 'learned'
        ? parameter(normalInit([1, 1 + c.patches, c.dModel], std, { device, seed: seed() }))
        : undefined;
    this.drop = new Dropout(c.dropout);
  }

  /** images f32 [B, C, H, W] → tokens [B, 1 + patches, dModel], the class token first. */
  forward(images: Tensor): Tensor {
    const patches = this.patch_embeddings.forward(images);
    const [b, , d] = patches.shape as [number, number, number];
    const tokens = cat([expand(this.cls_token, [b, 1, d]), patches], 1);
    return this.drop.forward(
      this.position_embeddings ? add(tokens, this.position_embeddings) : tokens,
    );
  }
}

/**
 * A Vision Transformer (Dosovitskiy et al., 2021, "An Image is Worth 16x16 Words"): the image cut
 * into patches, each embedded by one matmul, a learned class token in front, positions learned or
 * by 2-D RoPE, the transformer's pre-norm bidirectional `Trunk` (LayerNorm, GELU MLP; no block
 * code of its own), and a linear classifier on the class token or on the mean of the patch
 * tokens. Parameter names: `embeddings.*`, `model.*` (the trunk's, Hugging Face Llama style),
 * `classifier.*`. Dropout and stochastic depth act in training mode only (`train()`/`eval()`).
 */
export class ViT extends Module {
  readonly config: ResolvedViTConfig;
  embeddings: ViTEmbeddings;
  model: Trunk;
  classifier: ClassificationHead;
  readonly #rope: PatchRope | undefined;

  /** Builds the model of `config` on `device`; throws on a bad config (see `resolveViTConfig`). */
  constructor(config: ViTConfig, device: Device = getDefaultDevice()) {
    super();
    const c = resolveViTConfig(config);
    this.config = c;
    let n = 0;
    const seed = () => c.seed * 1000 + ++n;
    this.embeddings = new ViTEmbeddings(c, device, seed);
    this.#rope =
      c.positions === 'rope2d'
        ? new PatchRope({
            dim: c.dModel / c.heads,
            rows: c.grid[0],
            cols: c.grid[1],
            theta: c.ropeTheta,
            device,
          })
        : undefined;
    this.model = new Trunk(
      trunkConfig(c),
      { causal: false, tokenEmbeddings: false, rotary: this.#rope ?? false },
      device,
      seed,
    );
    this.classifier = new ClassificationHead(c.dModel, c.classes, {
      device,
      seed: seed(),
      std: c.initStd,
    });
  }

  /** images f32 [B, C, H, W] → class logits [B, classes]. */
  forward(images: Tensor): Tensor {
    return this.logits(this.hidden(images));
  }

  /**
   * images f32 [B, C, H, W] → the trunk's final hidden states [B, 1 + patches, dModel]: the class
   * token, then the patches in row-major grid order (the features a projector hands a language
   * model). Throws on images of another size or channel count, naming the shapes.
   */
  hidden(images: Tensor): Tensor {
    const { channels, imageSize } = this.config;
    const [, ch, h, w] = images.shape;
    if (images.rank !== 4 || ch !== channels || h !== imageSize[0] || w !== imageSize[1])
      throw new RangeError(
        `ViT: images must be [batch, ${channels}, ${imageSize[0]}, ${imageSize[1]}], got [${images.shape.join(', ')}]`,
      );
    return this.model.forward(this.embeddings.forward(images));
  }

  /** hidden [B, 1 + patches, dModel] → logits [B, classes], from the class token or the patches' mean. */
  logits(hidden: Tensor): Tensor {
    const pooled =
      this.config.pool === 'cls' ? hidden : mean(slice(hidden, 1, 1), 1, { keepDim: true });
    return this.classifier.forward(pooled);
  }

  /**
   * The attention weights of every layer for `images`, first layer first, each f32
   * [B, heads, 1 + patches, 1 + patches] (computed without gradients, in the current mode).
   */
  attentionMaps(images: Tensor): Tensor[] {
    return noGrad(() =>
      tidy(() => {
        const ctx: LayerContext = { rope: this.model.rope };
        let x = this.embeddings.forward(images);
        return this.model.layers.map((block) => {
          const weights = block.self_attn.probabilities(block.input_layernorm.forward(x), ctx);
          x = block.forward(x, ctx);
          return weights;
        });
      }),
    );
  }

  /**
   * Where the classifier looks: the attention rollout (`attentionRollout`) of `images`, the row of
   * the token the classifier reads (the class token; for mean pooling the mean of the patch rows)
   * over the patches, f32 [B, gridRows, gridCols]. Each map sums to at most 1 (the rest stays on
   * the class token).
   */
  relevance(images: Tensor): Tensor {
    return noGrad(() =>
      tidy(() => {
        const rollout = attentionRollout(this.attentionMaps(images)); // [B, T, T]
        const [b] = rollout.shape as [number];
        const rows =
          this.config.pool === 'cls'
            ? slice(rollout, 1, 0, 1)
            : mean(slice(rollout, 1, 1), 1, { keepDim: true });
        return contiguous(reshape(slice(rows, 2, 1), [b, ...this.config.grid]));
      }),
    );
  }

  /** Frees the parameters, their gradients and the RoPE tables; using the model after is an error. */
  override dispose(): void {
    this.model.dispose();
    this.#rope?.dispose();
    super.dispose();
  }
}
