import { div, maximum, mul, sum, type Tensor } from '@tessera/tensor-webgpu';
import { checkTensor } from './check.js';

// Masked reductions over completion tokens. Every RL loss here reduces per-token values [B, T]
// under a completion mask [B, T] (f32, 1 = a completion token, 0 = prompt or padding).

function operands(where: string, x: unknown, mask: unknown): [Tensor, Tensor] {
  const sizes = {};
  return [
    checkTensor(where, 'x', x, { shape: ['B', 'T'] }, sizes),
    checkTensor(where, 'mask', mask, { shape: ['B', 'T'] }, sizes),
  ];
}

/**
 * Sum of `x` over the tokens the mask keeps, over the whole batch: Σ_{b,t} x·m.
 *
 * @param x - per-token values [B, T] f32
 * @param mask - completion mask [B, T] f32 (0/1)
 * @returns a 0-d f32 tensor
 * @throws TypeError / RangeError - a non-tensor, a non-f32 dtype, or shapes that are not both [B, T]
 */
export function maskedSum(x: Tensor, mask: Tensor): Tensor {
  const [v, m] = operands('maskedSum', x, mask);
  return sum(mul(v, m));
}

/**
 * Token-level mean over the batch: Σ_{b,t} x·m / max(Σ_{b,t} m, 1), as TRL's `masked_mean` (the
 * count is clamped at 1, so a mask with no tokens gives 0 rather than NaN).
 *
 * @param x - per-token values [B, T] f32
 * @param mask - completion mask [B, T] f32 (0/1)
 * @returns a 0-d f32 tensor
 */
export function maskedMean(x: Tensor, mask: Tensor): Tensor {
  const [v, m] = operands('maskedMean', x, mask);
  return div(sum(mul(v, m)), maximum(sum(m), 1));
}

/**
 * Per-sequence sum over the tokens the mask keeps: Σ_t x·m, e.g. a completion's log-probability
 * from its per-token log-probs.
 *
 * @param x - per-token values [B, T] f32
 * @param mask - completion mask [B, T] f32 (0/1)
 * @returns [B] f32
 */
export function sequenceSum(x: Tensor, mask: Tensor): Tensor {
  const [v, m] = operands('sequenceSum', x, mask);
  return sum(mul(v, m), -1);
}

/**
 * Per-sequence mean over the tokens the mask keeps: Σ_t x·m / max(Σ_t m, 1) (a row with no
 * tokens gives 0).
 *
 * @param x - per-token values [B, T] f32
 * @param mask - completion mask [B, T] f32 (0/1)
 * @returns [B] f32
 */
export function sequenceMean(x: Tensor, mask: Tensor): Tensor {
  const [v, m] = operands('sequenceMean', x, mask);
  return div(sum(mul(v, m), -1), maximum(sum(m, -1), 1));
}
