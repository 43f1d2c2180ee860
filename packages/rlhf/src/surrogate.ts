import {
  add,
  checkOptions,
  exp,
  gt,
  lt,
  maximum,
  minimum,
  mul,
  neg,
  noGrad,
  reshape,
  sub,
  type Tensor,
} from '@tessera/tensor-webgpu';
import { checkNumber, checkTensor } from './check.js';
import { maskedMean } from './masked.js';

export interface ClipOptions {
  /** Lower clip range: the ratio is clipped below at 1 − epsilonLow. Default 0.2. */
  epsilonLow?: number;
  /** Upper clip range: the ratio is clipped above at 1 + epsilonHigh. Default `epsilonLow` (DAPO's clip-higher uses 0.28). */
  epsilonHigh?: number;
}

/** The clip fractions of a batch, each a 0-d f32 tensor (token means over the completion mask). */
export interface ClipFractions {
  /** Share of tokens with ratio < 1 − ε_low and a negative advantage (the lower clip is active). */
  low: Tensor;
  /** Share of tokens with ratio > 1 + ε_high and a positive advantage (the upper clip is active). */
  high: Tensor;
  /** `low + high`: tokens whose gradient the clip removes (PPO's `clipfrac`). */
  region: Tensor;
}

function clipRange(where: string, options: ClipOptions): [number, number] {
  checkOptions(where, options, ['epsilonLow', 'epsilonHigh']);
  const low = checkNumber(where, 'epsilonLow', options.epsilonLow ?? 0.2, { min: 0, max: 1 });
  const high = checkNumber(where, 'epsilonHigh', options.epsilonHigh ?? low, { min: 0 });
  return [low, high];
}

function ratioAndAdvantages(
  where: string,
  logprobs: Tensor,
  oldLogprobs: Tensor,
  advantages: Tensor,
  sizes: Record<string, number>,
): [Tensor, Tensor] {
  checkTensor(where, 'logprobs', logprobs, { shape: ['B', 'T'] }, sizes);
  checkTensor(where, 'oldLogprobs', oldLogprobs, { shape: ['B', 'T'] }, sizes);
  const perSequence = advantages?.rank === 1;
  checkTensor(where, 'advantages', advantages, { shape: perSequence ? ['B'] : ['B', 'T'] }, sizes);
  const a = perSequence ? reshape(advantages, [-1, 1]) : advantages;
  return [exp(sub(logprobs, oldLogprobs)), a];
}

/**
 * The clipped surrogate objective of PPO, as a per-token loss to minimise:
 * −min(r·A, clip(r, 1 − ε_low, 1 + ε_high)·A) with r = π/π_old = exp(log π − log π_old).
 * Asymmetric clipping (ε_high > ε_low) is DAPO's clip-higher. PPO (TRL `PPOTrainer`,
 * `cliprange`) and GRPO (TRL `GRPOTrainer`, `epsilon`/`epsilon_high`) both use this form.
 *
 * References: Schulman et al., "Proximal Policy Optimization Algorithms" (2017), eq. 7;
 * Yu et al., "DAPO" (2025), eq. 10 (clip-higher).
 *
 * Differentiable in `logprobs`; `oldLogprobs` and `advantages` are data (detach them). With
 * `oldLogprobs = logprobs.detach()` the ratio is 1 and the gradient is −A·∇log π.
 *
 * @param logprobs - the current policy's log-probs of the sampled tokens [B, T] f32
 * @param oldLogprobs - the log-probs of the policy that sampled them [B, T] f32
 * @param advantages - per sequence [B] f32 (broadcast over tokens) or per token [B, T] f32
 * @returns per-token losses [B, T] f32 (aggregate them over the completion mask)
 * @throws RangeError - epsilonLow outside [0, 1] or epsilonHigh < 0
 */
export function clippedSurrogate(
  logprobs: Tensor,
  oldLogprobs: Tensor,
  advantages: Tensor,
  options: ClipOptions = {},
): Tensor {
  const [low, high] = clipRange('clippedSurrogate', options);
  const [ratio, a] = ratioAndAdvantages('clippedSurrogate', logprobs, oldLogprobs, advantages, {});
  const clipped = minimum(maximum(ratio, 1 - low), 1 + high);
  return neg(minimum(mul(ratio, a), mul(clipped, a)));
}

/**
 * How often the clip of `clippedSurrogate` is active, as TRL `GRPOTrainer` logs it
 * (`clip_ratio/low_mean`, `high_mean`, `region_mean`); `region` equals TRL `PPOTrainer`'s
 * `pg_clipfrac`. Computed without gradient.
 *
 * @param logprobs - the current policy's log-probs [B, T] f32
 * @param oldLogprobs - the sampling policy's log-probs [B, T] f32
 * @param advantages - [B] or [B, T] f32
 * @param mask - completion mask [B, T] f32 (0/1)
 */
export function clipFractions(
  logprobs: Tensor,
  oldLogprobs: Tensor,
  advantages: Tensor,
  mask: Tensor,
  options: ClipOptions = {},
): ClipFractions {
  const [lowEps, highEps] = clipRange('clipFractions', options);
  return noGrad(() => {
    const sizes = {};
    const [ratio, a] = ratioAndAdvantages(
      'clipFractions',
      logprobs,
      oldLogprobs,
      advantages,
      sizes,
    );
    checkTensor('clipFractions', 'mask', mask, { shape: ['B', 'T'] }, sizes);
    const low = maskedMean(mul(lt(ratio, 1 - lowEps), lt(a, 0)), mask);
    const high = maskedMean(mul(gt(ratio, 1 + highEps), gt(a, 0)), mask);
    return { low, high, region: add(low, high) };
  });
}
