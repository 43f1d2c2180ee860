import { cat, slice, type Tensor, zeros } from '@tessera/tensor-webgpu';

/**
 * x [B, T] → [B, T] moved one position right, 0 in column 0: turns a per-position output into a
 * per-token one. A model's output at position t − 1 is about the state before token t (a value
 * V(ids[0..t−1]), the entropy of the distribution token t was drawn from), so shifting aligns it
 * with `tokenLogprobs`' entry for token t and with the completion mask. Differentiable.
 */
export function shiftRight(x: Tensor): Tensor {
  const [rows, length] = x.shape as [number, number];
  return cat([zeros([rows, 1], { device: x.device }), slice(x, 1, 0, length - 1)], 1);
}
