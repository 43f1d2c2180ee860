import {
  add,
  cat,
  checkOptions,
  mul,
  relu,
  reshape,
  slice,
  sub,
  type Tensor,
  zeros,
} from '@tessera/tensor-webgpu';
import { checkChoice, checkNumber, checkTensor } from './check.js';
import { approxKl, type KlEstimator, klPerToken } from './kl.js';
import { maskedMean } from './masked.js';
import { clipFractions, clippedSurrogate } from './surrogate.js';
import { clippedValueLoss } from './value-loss.js';

export interface PpoRewardOptions {
  /** β of the KL penalty (`KLController.value`). */
  klCoef: number;
  /** `'k1'` (default, as TRL `PPOConfig.kl_estimator`) or `'k3'`. */
  estimator?: Extract<KlEstimator, 'k1' | 'k3'>;
}

/** Per-token rewards of a rollout. */
export interface PpoRewards {
  /** −β·KL at every completion token, plus the score at the last one [B, T] f32; 0 off the mask. */
  rewards: Tensor;
  /** The per-token KL estimates [B, T] f32, 0 off the mask (Σ over T is the sequence KL a `KLController` wants). */
  kl: Tensor;
}

/**
 * PPO's per-token rewards for RLHF: r_t = −β·KL_t at every completion token, plus the reward
 * model's score of the whole completion at its last token — the KL-shaped reward of Ziegler et
 * al. (2019) and InstructGPT (Ouyang et al., 2022, eq. 2), as TRL `PPOTrainer` builds it
 * (`non_score_reward`, `rewards[…, actual_end] += scores`).
 *
 * The last completion token is the last 1 of each row of the mask, which must be one run of
 * 1s per row (right padding). TRL puts the score one past the last non-pad token when that is
 * within the row; with pad = EOS (its default set-up) that is the EOS token, which this
 * mask includes — the same position.
 *
 * @param logprobs - the policy's log-probs of the sampled tokens [B, T] f32 (at rollout)
 * @param refLogprobs - the reference model's log-probs of the same tokens [B, T] f32
 * @param scores - the reward model's (or a rule's) score per completion [B] f32
 * @param mask - completion mask [B, T] f32 (0/1)
 */
export function ppoRewards(
  logprobs: Tensor,
  refLogprobs: Tensor,
  scores: Tensor,
  mask: Tensor,
  options: PpoRewardOptions,
): PpoRewards {
  const where = 'ppoRewards';
  checkOptions(where, options, ['klCoef', 'estimator']);
  const klCoef = checkNumber(where, 'klCoef', options?.klCoef, { min: 0 });
  const estimator = checkChoice(where, 'estimator', options.estimator ?? 'k1', ['k1', 'k3']);
  const sizes = {};
  checkTensor(where, 'logprobs', logprobs, { shape: ['B', 'T'] }, sizes);
  checkTensor(where, 'refLogprobs', refLogprobs, { shape: ['B', 'T'] }, sizes);
  checkTensor(where, 'scores', scores, { shape: ['B'] }, sizes);
  checkTensor(where, 'mask', mask, { shape: ['B', 'T'] }, sizes);
  const kl = mul(klPerToken(logprobs, refLogprobs, estimator), mask);
  // 1 where the mask ends: m_t − m_{t+1}, with m = 0 after the row.
  const rows = mask.shape[0]!;
  const next = cat([slice(mask, 1, 1), zeros([rows, 1], { device: mask.device })], 1);
  const last = relu(sub(mask, next));
  const rewards = add(mul(kl, -klCoef), mul(last, reshape(scores, [rows, 1])));
  return { rewards, kl };
}

/** What `ppoLoss` needs, all [B, T] f32 except where noted. */
export interface PpoInputs {
  /** The current policy's log-probs of the sampled tokens (differentiable). */
  logprobs: Tensor;
  /** The log-probs at rollout time. */
  oldLogprobs: Tensor;
  /** Whitened advantages (`gae` then `maskedWhiten`). */
  advantages: Tensor;
  /** The value head's current predictions (differentiable). */
  values: Tensor;
  /** Its predictions at rollout time. */
  oldValues: Tensor;
  /** GAE returns. */
  returns: Tensor;
  /** Completion mask (0/1). */
  mask: Tensor;
  /** Per-token entropy of the current policy (`entropyFromLogits`), for the entropy bonus. */
  entropy?: Tensor;
}

export interface PpoLossOptions {
  /** ε of the policy's clipped surrogate. Default 0.2 (TRL `cliprange`). */
  cliprange?: number;
  /** c of the clipped value loss. Default 0.2 (TRL `cliprange_value`). */
  cliprangeValue?: number;
  /** Weight of the value loss. Default 0.1 (TRL `vf_coef`). */
  vfCoef?: number;
  /** Weight of the entropy bonus (subtracted from the loss); needs `inputs.entropy`. Default 0. */
  entropyCoef?: number;
}

/** PPO's loss and statistics (statistics as 0-d f32 tensors without gradient). */
export interface PpoLoss {
  /** policyLoss + vfCoef·valueLoss − entropyCoef·entropy, 0-d f32. */
  loss: Tensor;
  policyLoss: Tensor;
  valueLoss: Tensor;
  /** Masked mean entropy, when `inputs.entropy` was given. */
  entropy?: Tensor;
  /** Share of tokens where the policy clip is active (TRL `pg_clipfrac`). */
  clipFraction: Tensor;
  /** Share of tokens where the value clip is active (TRL `vf_clipfrac`). */
  valueClipFraction: Tensor;
  /** Masked mean of ½(log π − log π_old)². */
  approxKl: Tensor;
}

const TOKEN_INPUTS = [
  'logprobs',
  'oldLogprobs',
  'advantages',
  'values',
  'oldValues',
  'returns',
  'mask',
] as const;

/**
 * The PPO objective for language models, as TRL `PPOTrainer` (v1.9.0,
 * `trl/experimental/ppo`): the masked token mean of the clipped surrogate, plus vfCoef × the
 * clipped value loss, minus entropyCoef × the masked mean entropy (an entropy bonus; TRL only
 * logs the entropy).
 *
 * References: Schulman et al., "Proximal Policy Optimization Algorithms" (2017), eq. 9;
 * Ouyang et al., InstructGPT (2022); Huang et al., "The N+ Implementation Details of RLHF with
 * PPO" (2024).
 */
export function ppoLoss(inputs: PpoInputs, options: PpoLossOptions = {}): PpoLoss {
  const where = 'ppoLoss';
  checkOptions(where, options, ['cliprange', 'cliprangeValue', 'vfCoef', 'entropyCoef']);
  const cliprange = checkNumber(where, 'cliprange', options.cliprange ?? 0.2, { min: 0, max: 1 });
  const vfCoef = checkNumber(where, 'vfCoef', options.vfCoef ?? 0.1, { min: 0 });
  const entropyCoef = checkNumber(where, 'entropyCoef', options.entropyCoef ?? 0, { min: 0 });
  const sizes = {};
  for (const name of TOKEN_INPUTS)
    checkTensor(where, name, inputs?.[name], { shape: ['B', 'T'] }, sizes);
  const { logprobs, oldLogprobs, advantages, values, oldValues, returns, mask, entropy } = inputs;
  const clip = { epsilonLow: cliprange, epsilonHigh: cliprange };
  const policyLoss = maskedMean(clippedSurrogate(logprobs, oldLogprobs, advantages, clip), mask);
  const value = clippedValueLoss(values, oldValues, returns, mask, {
    cliprangeValue: options.cliprangeValue ?? 0.2,
  });
  let loss = add(policyLoss, mul(value.loss, vfCoef));
  let meanEntropy: Tensor | undefined;
  if (entropy !== undefined) {
    checkTensor(where, 'entropy', entropy, { shape: ['B', 'T'] }, sizes);
    meanEntropy = maskedMean(entropy, mask);
    loss = sub(loss, mul(meanEntropy, entropyCoef));
  } else if (entropyCoef > 0) {
    throw new TypeError(
      `${where}: entropyCoef ${entropyCoef} needs inputs.entropy (entropyFromLogits)`,
    );
  }
  const stats = clipFractions(logprobs, oldLogprobs, advantages, mask, clip);
  return {
    loss,
    policyLoss,
    valueLoss: value.loss,
    ...(meanEntropy && { entropy: meanEntropy.detach() }),
    clipFraction: stats.region,
    valueClipFraction: value.clipFraction,
    approxKl: approxKl(logprobs.detach(), oldLogprobs, mask),
  };
}
