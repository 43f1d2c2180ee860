import {
  type ClipFractions,
  checkNumber,
  checkTensor,
  clipFractions,
  clippedSurrogate,
  klPerToken,
  maskedMean,
} from '@tessera/rlhf';
import { add, checkOptions, mul, noGrad, type Tensor } from '@tessera/tensor-webgpu';
import { type AggregateOptions, aggregateLoss } from './aggregate.js';

/** One micro-batch of completions, all [B, T] f32 except `advantages`. */
export interface GrpoInputs {
  /** The policy's log-probs of the sampled completion tokens (differentiable). */
  logprobs: Tensor;
  /**
   * The log-probs of the policy that generated the batch, stored at generation time, for the
   * importance ratio when a batch is reused (`numIterations` > 1, or more micro-batches per
   * generation than per optimizer step). Default `logprobs.detach()`: ratio 1, as TRL when
   * the batch is used once.
   */
  oldLogprobs?: Tensor;
  /** The reference model's log-probs; required when `beta` > 0 (with β = 0, used only for the `kl` statistic). */
  refLogprobs?: Tensor;
  /** Group-relative advantages [B] (`groupAdvantages`), or per token [B, T]. */
  advantages: Tensor;
  /** Completion mask (0/1). */
  mask: Tensor;
}

export interface GrpoLossOptions extends AggregateOptions {
  /** KL coefficient β toward the reference model. Default 0 (TRL's default: no reference model needed). */
  beta?: number;
  /** Lower clip range ε_low. Default 0.2 (TRL `epsilon`). */
  epsilonLow?: number;
  /** Upper clip range ε_high. Default `epsilonLow` (TRL `epsilon_high`; DAPO uses 0.28). */
  epsilonHigh?: number;
}

/** GRPO's loss for one micro-batch and its statistics (0-d f32 tensors without gradient). */
export interface GrpoLoss {
  /** The aggregated loss, 0-d f32, differentiable in `logprobs`. */
  loss: Tensor;
  /** The per-token loss before aggregation [B, T] f32. */
  perTokenLoss: Tensor;
  /** Masked token mean of the k3 KL to the reference, when `refLogprobs` was given (TRL `kl`). */
  kl?: Tensor;
  /** Clip fractions low / high / region (TRL `clip_ratio/*`). */
  clip: ClipFractions;
}

/**
 * The GRPO objective for one micro-batch, as TRL v1.9.0 `GRPOTrainer._compute_loss` with
 * `importance_sampling_level="token"`: per token, the clipped surrogate
 * −min(r·A, clip(r, 1 − ε_low, 1 + ε_high)·A) with r = π/π_old, plus β·k3 where
 * k3 = π_ref/π − log(π_ref/π) − 1 (an unbiased, non-negative KL estimate), then aggregated over
 * the completion mask by `lossType` (`aggregateLoss`).
 *
 * References: Shao et al., "DeepSeekMath" (2024), eq. 3–4 (GRPO); Yu et al., "DAPO" (2025),
 * eq. 10 and 12 (clip-higher, token-level loss); Liu et al. 2025 (Dr. GRPO).
 *
 * @throws TypeError / RangeError - bad tensors, β > 0 without `refLogprobs`, or bad options
 */
export function grpoLoss(inputs: GrpoInputs, options: GrpoLossOptions = {}): GrpoLoss {
  const where = 'grpoLoss';
  checkOptions(where, options, [
    'beta',
    'epsilonLow',
    'epsilonHigh',
    'lossType',
    'maxCompletionLength',
    'tokensInBatch',
    'accumulationSteps',
  ]);
  const { beta: betaOption, epsilonLow, epsilonHigh, ...aggregate } = options;
  const beta = checkNumber(where, 'beta', betaOption ?? 0, { min: 0 });
  const sizes = {};
  const logprobs = checkTensor(where, 'logprobs', inputs?.logprobs, { shape: ['B', 'T'] }, sizes);
  const mask = checkTensor(where, 'mask', inputs.mask, { shape: ['B', 'T'] }, sizes);
  const oldLogprobs =
    inputs.oldLogprobs === undefined
      ? logprobs.detach()
      : checkTensor(where, 'oldLogprobs', inputs.oldLogprobs, { shape: ['B', 'T'] }, sizes);
  const perSequence = inputs.advantages?.rank === 1;
  checkTensor(
    where,
    'advantages',
    inputs.advantages,
    { shape: perSequence ? ['B'] : ['B', 'T'] },
    sizes,
  );
  if (beta > 0 && inputs.refLogprobs === undefined)
    throw new TypeError(
      `${where}: beta ${beta} > 0 needs inputs.refLogprobs (the reference model's log-probs)`,
    );
  const clip = {
    epsilonLow: epsilonLow ?? 0.2,
    epsilonHigh: epsilonHigh ?? epsilonLow ?? 0.2,
  };
  let perTokenLoss = clippedSurrogate(logprobs, oldLogprobs, inputs.advantages, clip);
  let klTokens: Tensor | undefined;
  if (inputs.refLogprobs !== undefined) {
    checkTensor(where, 'refLogprobs', inputs.refLogprobs, { shape: ['B', 'T'] }, sizes);
    klTokens = klPerToken(logprobs, inputs.refLogprobs, 'k3');
    if (beta > 0) perTokenLoss = add(perTokenLoss, mul(klTokens, beta));
  }
  const loss = aggregateLoss(perTokenLoss, mask, aggregate);
  return noGrad(() => ({
    loss,
    perTokenLoss,
    ...(klTokens && { kl: maskedMean(klTokens, mask) }),
    clip: clipFractions(logprobs, oldLogprobs, inputs.advantages, mask, clip),
  }));
}
