import { checkOptions } from '@tessera/tensor-webgpu';
import type { TransformerConfig } from '@tessera/transformer';

/** Everything that defines a ViT's shape (the model file's config object). */
export interface ViTConfig {
  /** Image side in pixels, or [height, width]. */
  imageSize: number | readonly [number, number];
  /** Side of a square patch in pixels; must divide both image sides. */
  patchSize: number;
  /** Image channels. Default 3 (RGB); 1 for MNIST. */
  channels?: number;
  /** Classes the classifier scores. */
  classes: number;
  /** Width of the residual stream. */
  dModel: number;
  layers: number;
  heads: number;
  /** Hidden width of the GELU MLP of each block. Default 4·dModel. */
  ffnHidden?: number;
  /**
   * Where position comes from: `learned` 1-D absolute embeddings added to the tokens
   * (Dosovitskiy et al., 2021), or `rope2d`, axial 2-D RoPE on queries and keys over the patch
   * grid, the class token unrotated (Heo et al., 2024). Default `learned`.
   */
  positions?: 'learned' | 'rope2d';
  /** RoPE base for `rope2d`. Default 100 (RoPE-ViT's axial setting). */
  ropeTheta?: number;
  /** The classifier reads the class token (`cls`) or the mean of the patch tokens (`mean`). Default `cls`. */
  pool?: 'cls' | 'mean';
  /** Dropout on the embeddings and each residual branch while training. Default 0. */
  dropout?: number;
  /** Stochastic depth: the deepest block's rate, rising linearly from 0 (see `TransformerConfig.dropPath`). Default 0. */
  dropPath?: number;
  /** LayerNorm epsilon. Default 1e-6 (timm's ViT). */
  normEps?: number;
  /** Init std of every weight matrix and of the class token and positions. Default 0.02. */
  initStd?: number;
  seed?: number;
}

/** A config with every default filled in, checked, and the patch grid it implies. */
export type ResolvedViTConfig = Required<Omit<ViTConfig, 'imageSize'>> & {
  imageSize: readonly [number, number];
  /** Patch rows and columns. */
  grid: readonly [number, number];
  /** Patches per image, rows·cols. */
  patches: number;
};

const CONFIG_KEYS: Record<keyof ViTConfig, true> = {
  imageSize: true,
  patchSize: true,
  channels: true,
  classes: true,
  dModel: true,
  layers: true,
  heads: true,
  ffnHidden: true,
  positions: true,
  ropeTheta: true,
  pool: true,
  dropout: true,
  dropPath: true,
  normEps: true,
  initStd: true,
  seed: true,
};

/**
 * Fills in the defaults and checks the config: unknown keys, sizes that are not positive
 * integers, a patch size that does not divide the image, an unknown `positions` or `pool`, and
 * (for `rope2d`) a head width that is not a multiple of 4 are errors naming the key and value.
 */
export function resolveViTConfig(c: ViTConfig): ResolvedViTConfig {
  checkOptions('ViT config', c, Object.keys(CONFIG_KEYS));
  const imageSize = (
    typeof c.imageSize === 'number' ? [c.imageSize, c.imageSize] : c.imageSize
  ) as [number, number];
  const sizes = {
    'imageSize[0]': imageSize[0],
    'imageSize[1]': imageSize[1],
    patchSize: c.patchSize,
    channels: c.channels ?? 3,
    classes: c.classes,
    dModel: c.dModel,
    layers: c.layers,
    heads: c.heads,
    ffnHidden: c.ffnHidden ?? 4 * c.dModel,
  };
  for (const [key, value] of Object.entries(sizes))
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`ViT config: ${key} must be a positive integer, got ${value}`);
  if (imageSize[0] % c.patchSize !== 0 || imageSize[1] % c.patchSize !== 0)
    throw new RangeError(
      `ViT config: patchSize ${c.patchSize} must divide the image size ${imageSize[0]}×${imageSize[1]}`,
    );
  const positions = c.positions ?? 'learned';
  if (positions !== 'learned' && positions !== 'rope2d')
    throw new TypeError(
      `ViT config: positions must be 'learned' or 'rope2d', got ${JSON.stringify(positions)}`,
    );
  const pool = c.pool ?? 'cls';
  if (pool !== 'cls' && pool !== 'mean')
    throw new TypeError(`ViT config: pool must be 'cls' or 'mean', got ${JSON.stringify(pool)}`);
  const headDim = c.dModel / c.heads;
  if (positions === 'rope2d' && !(Number.isInteger(headDim) && headDim % 4 === 0))
    throw new RangeError(
      `ViT config: rope2d needs a head width (dModel / heads = ${headDim}) that is a multiple of 4 (half turns with the row, half with the column)`,
    );
  const grid = [imageSize[0] / c.patchSize, imageSize[1] / c.patchSize] as const;
  return {
    ...c,
    imageSize,
    channels: sizes.channels,
    ffnHidden: sizes.ffnHidden,
    positions,
    ropeTheta: c.ropeTheta ?? 100,
    pool,
    dropout: c.dropout ?? 0,
    dropPath: c.dropPath ?? 0,
    normEps: c.normEps ?? 1e-6,
    initStd: c.initStd ?? 0.02,
    seed: c.seed ?? 0,
    grid,
    patches: grid[0] * grid[1],
  };
}

/**
 * The transformer config of a ViT's trunk: pre-norm LayerNorm blocks with a GELU MLP, one
 * position per patch plus the class token, and no token vocabulary (the trunk is built without
 * token embeddings, so `vocabSize` is a placeholder).
 */
export function trunkConfig(c: ResolvedViTConfig): TransformerConfig {
  return {
    vocabSize: 1,
    dModel: c.dModel,
    layers: c.layers,
    heads: c.heads,
    ffn: 'gelu',
    ffnHidden: c.ffnHidden,
    norm: 'layer',
    normEps: c.normEps,
    dropout: c.dropout,
    dropPath: c.dropPath,
    maxSeqLen: 1 + c.patches,
    initStd: c.initStd,
    scaledInit: false,
    seed: c.seed,
  };
}
