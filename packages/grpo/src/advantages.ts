import { checkChoice, checkNumber, checkTensor } from '@tessera/rlhf';
import {
  add,
  checkOptions,
  div,
  mean,
  reshape,
  sqrt,
  sub,
  type Tensor,
  variance,
} from '@tessera/tensor-webgpu';

/** How group-relative advantages are scaled (TRL `GRPOConfig.scale_rewards`). */
export type ScaleRewards = 'group' | 'batch' | 'none';

export interface GroupAdvantageOptions {
  /** Completions per prompt (TRL `num_generations`), >= 2; the batch holds whole groups, one after another. */
  groupSize: number;
  /**
   * Divide by the unbiased std of each group (`'group'`, default: GRPO), of the whole batch
   * (`'batch'`: Hu et al. 2025, robust to groups of near-equal rewards), or not at all
   * (`'none'`: Dr. GRPO, which removes the question-level difficulty bias).
   */
  scaleRewards?: ScaleRewards;
  /** Added to the std before dividing. Default 1e-4, as TRL. */
  eps?: number;
}

/**
 * GRPO's group-relative advantages: each completion's reward minus the mean reward of its
 * group (the completions of the same prompt), divided by std + eps according to
 * `scaleRewards`. The std is the unbiased one (Bessel's correction, n − 1), as TRL's `nanstd`;
 * with `'batch'` the mean is still the group's and only the std is the batch's, as TRL. A group
 * whose rewards are all equal gets advantage 0.
 *
 * References: Shao et al., "DeepSeekMath" (2024), §4.1.2 (GRPO outcome supervision); Liu et
 * al., "Understanding R1-Zero-Like Training: A Critical Perspective" (2025) (Dr. GRPO, no std
 * scaling). Follows TRL v1.9.0 `GRPOTrainer._generate_and_score_completions`
 * (`multi_objective_aggregation="sum_then_normalize"`).
 *
 * @param rewards - one scalar reward per completion [B] f32, B a multiple of `groupSize`,
 * grouped consecutively: completions 0..n−1 answer prompt 0, n..2n−1 prompt 1, …
 * @returns advantages [B] f32, on the rewards' device
 * @throws TypeError / RangeError - a bad tensor, a batch that is not whole groups, or bad options
 */
export function groupAdvantages(rewards: Tensor, options: GroupAdvantageOptions): Tensor {
  const where = 'groupAdvantages';
  checkOptions(where, options, ['groupSize', 'scaleRewards', 'eps']);
  const n = checkNumber(where, 'groupSize', options?.groupSize, { min: 2, integer: true });
  const scale = checkChoice(where, 'scaleRewards', options.scaleRewards ?? 'group', [
    'group',
    'batch',
    'none',
  ]);
  const eps = checkNumber(where, 'eps', options.eps ?? 1e-4, { min: 0 });
  checkTensor(where, 'rewards', rewards, { shape: ['B'] });
  const size = rewards.shape[0]!;
  if (size % n !== 0)
    throw new RangeError(`${where}: ${size} rewards are not whole groups of groupSize ${n}`);
  const groups = reshape(rewards, [size / n, n]);
  const centered = sub(groups, mean(groups, 1, { keepDim: true }));
  const std =
    scale === 'group'
      ? sqrt(variance(groups, 1, { keepDim: true }))
      : scale === 'batch'
        ? sqrt(variance(rewards))
        : undefined;
  return reshape(std ? div(centered, add(std, eps)) : centered, [size]);
}
