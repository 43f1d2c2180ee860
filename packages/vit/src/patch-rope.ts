import { Rope2D } from '@tessera/rope';
import { cat, checkOptions, type Device, slice, type Tensor } from '@tessera/tensor-webgpu';
import type { Rotary } from '@tessera/transformer';

/** Options of `PatchRope`. */
export interface PatchRopeOptions {
  /** Head width; a multiple of 4 (half the rotated pairs turn with the row, half with the column). */
  dim: number;
  /** Patch rows and columns. */
  rows: number;
  cols: number;
  /** Tokens before the patches that are not rotated (the class token). Default 1. */
  prefix?: number;
  /** RoPE base. Default 100. */
  theta?: number;
  device?: Device;
}

/**
 * 2-D RoPE for a ViT's sequence (the trunk's `rotary`): the `prefix` tokens (the class token)
 * pass through unrotated, the rows·cols patch tokens turn by `Rope2D` of `@tessera/rope` — the
 * first half of each head's pairs with the patch's row, the second half with its column (axial
 * RoPE, Heo et al., 2024). x [B, heads, prefix + rows·cols, dim] → the same shape.
 */
export class PatchRope implements Rotary {
  readonly prefix: number;
  private readonly rope: Rope2D;

  constructor(readonly options: PatchRopeOptions) {
    checkOptions('PatchRope', options, ['dim', 'rows', 'cols', 'prefix', 'theta', 'device']);
    const { dim, rows, cols, device } = options;
    this.prefix = options.prefix ?? 1;
    this.rope = new Rope2D({ dim, rows, cols, theta: options.theta ?? 100, device });
  }

  /** Rotates the patch tokens of x [B, heads, T, dim]; throws on explicit positions (no KV cache here). */
  apply(x: Tensor, options: { positions?: Tensor } = {}): Tensor {
    if (options.positions)
      throw new Error(
        'PatchRope: a ViT attends over whole images; positions (a KV cache) are not supported',
      );
    const { rows, cols } = this.options;
    const seq = x.shape[x.rank - 2];
    if (seq !== this.prefix + rows * cols)
      throw new RangeError(
        `PatchRope: sequence of ${seq} tokens, expected ${this.prefix} + ${rows}·${cols} (prefix and patches)`,
      );
    const patches = this.rope.apply(slice(x, -2, this.prefix));
    return this.prefix > 0 ? cat([slice(x, -2, 0, this.prefix), patches], -2) : patches;
  }

  /** Frees the tables. */
  dispose(): void {
    this.rope.dispose();
  }
}
