import { Linear, normalInit } from '@tessera/nn';
import { checkOptions, type Device, permute, reshape, type Tensor } from '@tessera/tensor-webgpu';

/**
 * Cuts images f32 [B, C, H, W] into non-overlapping patch×patch tiles, flattened in row-major
 * grid order: [B, (H/patch)·(W/patch), C·patch·patch], each row ordered (channel, y, x) as a
 * convolution weight [out, C, patch, patch] is. A reshape to [B, C, H/p, p, W/p, p], a permute to
 * [B, H/p, W/p, C, p, p] (views) and one copy; the gradient flows back through the same views
 * (im2col for a stride equal to the kernel, so no kernel of its own is needed). Throws when the
 * images are not rank 4 or a side is not a multiple of `patch`.
 */
export function unfoldPatches(images: Tensor, patch: number): Tensor {
  if (!Number.isInteger(patch) || patch < 1)
    throw new RangeError(`unfoldPatches: patch must be a positive integer, got ${patch}`);
  if (images.rank !== 4)
    throw new RangeError(
      `unfoldPatches: images must be [batch, channels, height, width], got [${images.shape.join(', ')}]`,
    );
  const [b, c, h, w] = images.shape as [number, number, number, number];
  if (h % patch !== 0 || w % patch !== 0)
    throw new RangeError(
      `unfoldPatches: image size ${h}×${w} is not a multiple of the patch size ${patch}`,
    );
  const gh = h / patch;
  const gw = w / patch;
  const tiles = permute(reshape(images, [b, c, gh, patch, gw, patch]), [0, 2, 4, 1, 3, 5]);
  return reshape(tiles, [b, gh * gw, c * patch * patch]);
}

/** Options of `PatchEmbedding`. */
export interface PatchEmbeddingOptions {
  /** Image channels (1 for MNIST, 3 for RGB). */
  channels: number;
  /** Side of a square patch, in pixels (also the stride). */
  patch: number;
  /** Width of each patch's embedding. */
  dModel: number;
  /** Init std of the projection (default 0.02, as timm's ViT). */
  std?: number;
  seed?: number;
  device?: Device;
}

/**
 * ViT's patch embedding (Dosovitskiy et al., 2021): a convolution with kernel and stride
 * `patch`, written as one matmul over the unfolded patches. `projection.weight` is
 * [dModel, C·patch·patch] — a PyTorch `Conv2d` weight [dModel, C, patch, patch] reshaped — and
 * `projection.bias` is [dModel]. images f32 [B, C, H, W] → patch embeddings [B, N, dModel], N =
 * (H/patch)·(W/patch) in row-major grid order.
 */
export class PatchEmbedding extends Linear {
  constructor(readonly options: PatchEmbeddingOptions) {
    checkOptions('PatchEmbedding', options, [
      'channels',
      'patch',
      'dModel',
      'std',
      'seed',
      'device',
    ]);
    const { channels, patch, dModel, device, seed } = options;
    for (const [name, value] of Object.entries({ channels, patch, dModel }))
      if (!Number.isInteger(value) || value < 1)
        throw new RangeError(`PatchEmbedding: ${name} must be a positive integer, got ${value}`);
    const fanIn = channels * patch * patch;
    super(fanIn, dModel, {
      device,
      seed,
      weight: normalInit([dModel, fanIn], options.std ?? 0.02, { device, seed }),
    });
  }

  /** images f32 [B, C, H, W] → [B, N, dModel]; throws on a channel count other than `channels`. */
  override forward(images: Tensor): Tensor {
    if (images.rank === 4 && images.shape[1] !== this.options.channels)
      throw new RangeError(
        `PatchEmbedding: images have ${images.shape[1]} channels, expected ${this.options.channels} ([batch, channels, height, width], got [${images.shape.join(', ')}])`,
      );
    return super.forward(unfoldPatches(images, this.options.patch));
  }
}
