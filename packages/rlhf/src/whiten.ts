import {
  add,
  checkOptions,
  div,
  maximum,
  mul,
  rsqrt,
  square,
  sub,
  sum,
  type Tensor,
} from '@tessera/tensor-webgpu';
import { checkTensor } from './check.js';
import { maskedMean } from './masked.js';

export interface WhitenOptions {
  /** Keep the mean (add it back after scaling), as TRL does for rewards. Default `true` = subtract it. */
  shiftMean?: boolean;
}

/**
 * Whitens `x` over the tokens the mask keeps, as TRL's `masked_whiten`: (x − μ)·(σ² + 1e-8)^−½
 * with μ the masked mean and σ² the masked variance with Bessel's correction (Σ m(x − μ)² /
 * (n − 1), n the number of kept tokens); with `shiftMean: false` the mean is added back. Used
 * for PPO's advantages (InstructGPT; TRL `PPOTrainer`) and, optionally, its rewards.
 *
 * Positions outside the mask are 0 in the result (TRL's callers fill them with 0 after
 * whitening). With a single kept token the variance is taken as 0 (TRL divides by n − 1 = 0).
 *
 * @param x - per-token values [B, T] f32
 * @param mask - completion mask [B, T] f32 (0/1)
 * @returns [B, T] f32
 */
export function maskedWhiten(x: Tensor, mask: Tensor, options: WhitenOptions = {}): Tensor {
  checkOptions('maskedWhiten', options, ['shiftMean']);
  const sizes = {};
  checkTensor('maskedWhiten', 'x', x, { shape: ['B', 'T'] }, sizes);
  checkTensor('maskedWhiten', 'mask', mask, { shape: ['B', 'T'] }, sizes);
  const mean = maskedMean(x, mask);
  const centered = sub(x, mean);
  const count = sum(mask);
  const variance = div(sum(mul(square(centered), mask)), maximum(sub(count, 1), 1));
  const whitened = mul(centered, rsqrt(add(variance, 1e-8)));
  return mul(options.shiftMean === false ? add(whitened, mean) : whitened, mask);
}
