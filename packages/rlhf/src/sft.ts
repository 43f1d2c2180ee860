import {
  cat,
  checkOptions,
  crossEntropy,
  div,
  maximum,
  mul,
  slice,
  sum,
  type Tensor,
  zeros,
} from '@tessera/tensor-webgpu';
import { checkNumber, checkTensor } from './check.js';

export interface SftLossOptions {
  /**
   * The divisor of the summed token losses. Default: the number of target tokens in this batch
   * (clamped at 1), i.e. the token mean. Under gradient accumulation pass the number of target
   * tokens in all the micro-batches of the optimizer step, so that their gradients add up to
   * the token mean of the whole step (Hugging Face's `num_items_in_batch`).
   */
  tokensInBatch?: number;
}

/**
 * Supervised fine-tuning loss: next-token cross-entropy, averaged over the target tokens the
 * loss mask keeps. Token t is predicted from the logits at t − 1; `lossMask[b, t] = 1` makes
 * token t a target. Build the mask with `packSequences` / `padSequences`: with `completionOnly`
 * (TRL `SFTConfig.completion_only_loss`, default) only completion (assistant) tokens are
 * targets; without it every real token is, in both cases never padding nor the first token of
 * a packed example.
 *
 * Equals TRL `SFTTrainer`'s loss (Hugging Face causal-LM loss over labels that are −100 where
 * the mask is 0). Differentiable in `logits`; the softmax is never materialised (the fused
 * `crossEntropy` kernel).
 *
 * @param logits - the model's next-token logits [B, T, V] f32
 * @param ids - the token ids [B, T] i32 (the same the logits were computed from)
 * @param lossMask - which tokens are targets [B, T] f32 (0/1); column 0 is never a target
 * @returns the loss, a 0-d f32 tensor
 * @throws TypeError / RangeError - wrong tensors, T < 2, or a bad `tokensInBatch`
 */
export function sftLoss(
  logits: Tensor,
  ids: Tensor,
  lossMask: Tensor,
  options: SftLossOptions = {},
): Tensor {
  checkOptions('sftLoss', options, ['tokensInBatch']);
  const sizes = {};
  checkTensor('sftLoss', 'logits', logits, { shape: ['B', 'T', 'V'] }, sizes);
  checkTensor('sftLoss', 'ids', ids, { shape: ['B', 'T'], dtype: 'i32' }, sizes);
  checkTensor('sftLoss', 'lossMask', lossMask, { shape: ['B', 'T'] }, sizes);
  const [rows, length] = ids.shape as [number, number];
  if (length < 2)
    throw new RangeError(
      `sftLoss: sequences need at least 2 tokens to predict one, got T = ${length}`,
    );
  // Shift the targets left instead of the logits, so the [B, T, V] logits are read in place:
  // position t predicts ids[t + 1]; the last position predicts nothing (mask 0).
  const pad = (x: Tensor) =>
    cat([slice(x, 1, 1), zeros([rows, 1], { dtype: x.dtype, device: x.device })], 1);
  const perToken = crossEntropy(logits, pad(ids), { reduction: 'none' });
  const mask = pad(lossMask);
  const total = sum(mul(perToken, mask));
  if (options.tokensInBatch === undefined) return div(total, maximum(sum(mask), 1));
  return div(total, checkNumber('sftLoss', 'tokensInBatch', options.tokensInBatch, { min: 1 }));
}
