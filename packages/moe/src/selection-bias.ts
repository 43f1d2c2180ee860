import { gt, lt, mean, mul, noGrad, sub, type Tensor, tidy } from '@tessera/tensor-webgpu';

/**
 * DeepSeek-V3's auxiliary-loss-free balancing update (Liu et al., 2024, §2.1.2), in place: after
 * a training step, each expert's selection bias moves by γ towards balance,
 *
 *   bᵢ ← bᵢ + γ · sign(mean load − loadᵢ)
 *
 * so an overloaded expert's bias falls by γ and an underloaded one's rises by γ ("decrease the
 * bias term by γ if its corresponding expert is overloaded"); an expert exactly at the mean keeps
 * its bias. Runs on the device; nothing is read back.
 *
 * @param bias - [E] f32 selection bias (`TopKRouter.e_score_correction_bias`), updated in place
 * @param load - [E] f32 assignments per expert over the step
 * @param rate - γ (DeepSeek-V3 used 0.001 for most of training)
 * @throws RangeError - shapes that differ, or a rate that is not a finite non-negative number
 */
export function updateSelectionBias(bias: Tensor, load: Tensor, rate: number): void {
  if (bias.rank !== 1 || load.shape.join() !== bias.shape.join())
    throw new RangeError(
      `updateSelectionBias: bias and load must both be [E], got [${bias.shape.join(', ')}] and [${load.shape.join(', ')}]`,
    );
  if (!(Number.isFinite(rate) && rate >= 0))
    throw new RangeError(`updateSelectionBias: rate must be a finite number >= 0, got ${rate}`);
  tidy(() =>
    noGrad(() => {
      const error = sub(mean(load), load);
      bias.add_(mul(sub(gt(error, 0), lt(error, 0)), rate));
    }),
  );
}
