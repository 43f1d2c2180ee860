import { exp, mul, neg, square, sub, type Tensor } from '@tessera/tensor-webgpu';
import { checkChoice, checkTensor } from './check.js';
import { maskedMean } from './masked.js';

/** The per-token estimators of KL(π ‖ π_ref) from samples of π (Schulman, "Approximating KL divergence", 2020). */
export type KlEstimator = 'k1' | 'k2' | 'k3';

/**
 * Per-token estimate of KL(π ‖ π_ref) on tokens sampled from the policy π, from the two models'
 * log-probs of those tokens. With log r = log π_ref − log π (r = π_ref/π, as TRL computes it):
 *
 * - `k1` = −log r = log π − log π_ref: unbiased, high variance, can be negative (TRL PPO's
 *   default `kl_estimator`);
 * - `k2` = ½(log r)²: biased, low variance, always ≥ 0;
 * - `k3` = r − 1 − log r: unbiased, low variance, always ≥ 0 (TRL GRPO's KL term and PPO's
 *   `kl_estimator="k3"`).
 *
 * Reference: J. Schulman, "Approximating KL divergence" (2020), http://joschu.net/blog/kl-approx.html.
 * Differentiable in both inputs.
 *
 * @param logprobs - the policy's log-probs of the sampled tokens [B, T] f32
 * @param refLogprobs - the reference model's log-probs of the same tokens [B, T] f32
 * @param estimator - `'k1'`, `'k2'` or `'k3'`
 * @returns per-token KL estimates [B, T] f32 (mask them with the completion mask)
 * @throws TypeError / RangeError - wrong tensors or an unknown estimator
 */
export function klPerToken(logprobs: Tensor, refLogprobs: Tensor, estimator: KlEstimator): Tensor {
  const sizes = {};
  checkTensor('klPerToken', 'logprobs', logprobs, { shape: ['B', 'T'] }, sizes);
  checkTensor('klPerToken', 'refLogprobs', refLogprobs, { shape: ['B', 'T'] }, sizes);
  checkChoice('klPerToken', 'estimator', estimator, ['k1', 'k2', 'k3']);
  const logR = sub(refLogprobs, logprobs);
  if (estimator === 'k1') return neg(logR);
  if (estimator === 'k2') return mul(square(logR), 0.5);
  return sub(sub(exp(logR), 1), logR);
}

/**
 * The approximate KL between the current policy and the one that sampled the batch, as PPO
 * implementations log it: the masked token mean of ½(log π − log π_old)² (k2 of Schulman's
 * estimators). TRL's `PPOTrainer` averages over all B·T positions, padding included; this mean
 * is over completion tokens only.
 *
 * @param logprobs - the current policy's log-probs [B, T] f32
 * @param oldLogprobs - the sampling policy's log-probs [B, T] f32
 * @param mask - completion mask [B, T] f32 (0/1)
 * @returns a 0-d f32 tensor
 */
export function approxKl(logprobs: Tensor, oldLogprobs: Tensor, mask: Tensor): Tensor {
  const sizes = {};
  checkTensor('approxKl', 'logprobs', logprobs, { shape: ['B', 'T'] }, sizes);
  checkTensor('approxKl', 'oldLogprobs', oldLogprobs, { shape: ['B', 'T'] }, sizes);
  checkTensor('approxKl', 'mask', mask, { shape: ['B', 'T'] }, sizes);
  return maskedMean(mul(square(sub(logprobs, oldLogprobs)), 0.5), mask);
}
