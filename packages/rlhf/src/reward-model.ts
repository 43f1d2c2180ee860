import {
  add,
  checkOptions,
  gt,
  mean,
  mul,
  neg,
  noGrad,
  square,
  sub,
  type Tensor,
} from '@tessera/tensor-webgpu';
import { checkNumber, checkTensor } from './check.js';
import { logSigmoid } from './log-sigmoid.js';

export interface RewardLossOptions {
  /**
   * Required reward gap per pair, [B] f32 or one number: the loss becomes
   * −log σ(r_chosen − r_rejected − margin) (Llama 2's margin loss). Default none (0).
   */
  margin?: Tensor | number;
  /**
   * Weight of the auxiliary term mean((r_chosen + r_rejected)²) that centres rewards on 0
   * (Eisenstein et al. 2023; TRL `center_rewards_coefficient`, suggested 0.01). Default 0.
   */
  centerRewardsCoefficient?: number;
}

/** The reward model's loss and batch statistics (statistics without gradient). */
export interface RewardLoss {
  /** 0-d f32, differentiable. */
  loss: Tensor;
  /** Share of pairs with r_chosen > r_rejected, 0-d f32. */
  accuracy: Tensor;
  /** Mean of r_chosen − r_rejected, 0-d f32. */
  margin: Tensor;
}

/**
 * Pairwise Bradley–Terry loss of a scalar reward model, as TRL `RewardTrainer`:
 * mean over pairs of −log σ(r_chosen − r_rejected − margin), plus the optional centring term.
 *
 * References: Bradley & Terry (1952); Ouyang et al., "Training language models to follow
 * instructions with human feedback" (InstructGPT, 2022), eq. 1; Touvron et al., "Llama 2"
 * (2023), eq. 2 (margin).
 *
 * @param chosenRewards - the reward model's scores of the preferred completions [B] f32
 * @param rejectedRewards - its scores of the rejected completions [B] f32
 * @throws TypeError / RangeError - wrong tensors or options
 */
export function rewardModelLoss(
  chosenRewards: Tensor,
  rejectedRewards: Tensor,
  options: RewardLossOptions = {},
): RewardLoss {
  checkOptions('rewardModelLoss', options, ['margin', 'centerRewardsCoefficient']);
  const sizes = {};
  checkTensor('rewardModelLoss', 'chosenRewards', chosenRewards, { shape: ['B'] }, sizes);
  checkTensor('rewardModelLoss', 'rejectedRewards', rejectedRewards, { shape: ['B'] }, sizes);
  const { margin = 0, centerRewardsCoefficient = 0 } = options;
  if (typeof margin === 'number') checkNumber('rewardModelLoss', 'margin', margin);
  else checkTensor('rewardModelLoss', 'margin', margin, { shape: ['B'] }, sizes);
  checkNumber('rewardModelLoss', 'centerRewardsCoefficient', centerRewardsCoefficient, { min: 0 });
  const gap = sub(chosenRewards, rejectedRewards);
  let loss = mean(neg(logSigmoid(sub(gap, margin))));
  if (centerRewardsCoefficient > 0)
    loss = add(
      loss,
      mul(mean(square(add(chosenRewards, rejectedRewards))), centerRewardsCoefficient),
    );
  return noGrad(() => ({
    loss,
    accuracy: mean(gt(chosenRewards, rejectedRewards)),
    margin: mean(gap),
  }));
}
