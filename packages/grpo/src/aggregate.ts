import {
  checkChoice,
  checkNumber,
  checkTensor,
  maskedMean,
  maskedSum,
  sequenceMean,
} from '@tessera/rlhf';
import { checkOptions, div, mean, type Tensor } from '@tessera/tensor-webgpu';

/** How per-token losses become one number (TRL `GRPOConfig.loss_type`). */
export type LossType = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo';

export interface AggregateOptions {
  /**
   * - `'grpo'`: mean over each sequence's tokens, then over sequences (GRPO; longer
   *   completions weigh less per token);
   * - `'bnpo'`: token mean over this batch;
   * - `'dr_grpo'`: token sum divided by B × `maxCompletionLength`, a constant (Dr. GRPO);
   * - `'dapo'` (default, as TRL): token sum divided by `tokensInBatch`, the completion tokens of
   *   the whole optimizer step (DAPO's token-level loss).
   */
  lossType?: LossType;
  /** The generation limit in tokens; required by `'dr_grpo'`. */
  maxCompletionLength?: number;
  /**
   * `'dapo'` only: the number of completion tokens in every micro-batch of the optimizer step
   * (TRL `num_items_in_batch`: the mask sum over the whole generation batch). Default: this
   * batch's mask sum (clamped at 1), which is right without gradient accumulation.
   */
  tokensInBatch?: number;
  /**
   * `'grpo'`, `'bnpo'`, `'dr_grpo'`: the number of micro-batches accumulated into one
   * optimizer step; the loss is divided by it, as TRL divides by
   * `current_gradient_accumulation_steps`. Default 1. (`'dapo'` normalises by
   * `tokensInBatch` instead.)
   */
  accumulationSteps?: number;
}

/**
 * Reduces per-token losses [B, T] over the completion mask to the scalar loss of one
 * micro-batch, the way TRL v1.9.0 `GRPOTrainer._compute_loss` does for each `loss_type`:
 *
 * | lossType    | loss                                                    |
 * | ----------- | ------------------------------------------------------- |
 * | `'grpo'`    | mean_b(Σ_t l·m / max(Σ_t m, 1)) / accumulationSteps     |
 * | `'bnpo'`    | Σ l·m / max(Σ m, 1) / accumulationSteps                 |
 * | `'dr_grpo'` | Σ l·m / (B · maxCompletionLength) / accumulationSteps   |
 * | `'dapo'`    | Σ l·m / tokensInBatch                                   |
 *
 * With gradient accumulation, `'dapo'`'s micro-batch losses add up to the token mean of the
 * whole step (every token weighs the same, whichever micro-batch holds it), where `'bnpo'`
 * averages per micro-batch first. On one process TRL's `num_items_in_batch / num_processes` is
 * the token count of the generation batch, which `tokensInBatch` stands for.
 *
 * References: Shao et al. 2024 (GRPO, eq. 3); Liu et al. 2025 (Dr. GRPO); Yu et al., "DAPO"
 * (2025), eq. 12 (token-level policy gradient loss).
 *
 * @param perTokenLoss - [B, T] f32 (e.g. `grpoPerTokenLoss`)
 * @param mask - completion mask [B, T] f32 (0/1)
 * @returns the loss, a 0-d f32 tensor, differentiable in `perTokenLoss`
 * @throws TypeError / RangeError - bad tensors, a missing `maxCompletionLength`, or an option
 * that the loss type does not read
 */
export function aggregateLoss(
  perTokenLoss: Tensor,
  mask: Tensor,
  options: AggregateOptions = {},
): Tensor {
  const where = 'aggregateLoss';
  checkOptions(where, options, [
    'lossType',
    'maxCompletionLength',
    'tokensInBatch',
    'accumulationSteps',
  ]);
  const lossType = checkChoice(where, 'lossType', options.lossType ?? 'dapo', [
    'grpo',
    'bnpo',
    'dr_grpo',
    'dapo',
  ]);
  const sizes = {};
  checkTensor(where, 'perTokenLoss', perTokenLoss, { shape: ['B', 'T'] }, sizes);
  checkTensor(where, 'mask', mask, { shape: ['B', 'T'] }, sizes);
  if (options.maxCompletionLength !== undefined && lossType !== 'dr_grpo')
    throw new TypeError(
      `${where}: maxCompletionLength is read by lossType 'dr_grpo' only, got '${lossType}'`,
    );
  if (options.tokensInBatch !== undefined && lossType !== 'dapo')
    throw new TypeError(
      `${where}: tokensInBatch is read by lossType 'dapo' only, got '${lossType}'`,
    );
  if (lossType === 'dapo') {
    if (options.accumulationSteps !== undefined)
      throw new TypeError(
        `${where}: lossType 'dapo' normalises by tokensInBatch (the tokens of the whole step), not accumulationSteps`,
      );
    if (options.tokensInBatch === undefined) return maskedMean(perTokenLoss, mask);
    const tokens = checkNumber(where, 'tokensInBatch', options.tokensInBatch, { min: 1 });
    return div(maskedSum(perTokenLoss, mask), tokens);
  }
  const steps = checkNumber(where, 'accumulationSteps', options.accumulationSteps ?? 1, {
    min: 1,
    integer: true,
  });
  let loss: Tensor;
  if (lossType === 'grpo') loss = mean(sequenceMean(perTokenLoss, mask));
  else if (lossType === 'bnpo') loss = maskedMean(perTokenLoss, mask);
  else {
    if (options.maxCompletionLength === undefined)
      throw new TypeError(
        `${where}: lossType 'dr_grpo' needs maxCompletionLength (the generation limit in tokens)`,
      );
    const length = checkNumber(where, 'maxCompletionLength', options.maxCompletionLength, {
      min: 1,
      integer: true,
    });
    loss = div(maskedSum(perTokenLoss, mask), perTokenLoss.shape[0]! * length);
  }
  return steps === 1 ? loss : div(loss, steps);
}
