import { type BaseOptions, clipGradNorm, type Optimizer } from '@tessera/optim';
import type { Tensor } from '@tessera/tensor-webgpu';
import { checkNumber } from './check.js';

/**
 * The update every step function ends with: gradients of `loss` (after clearing the old ones),
 * the global gradient norm of the optimizer's parameters clipped to `maxGradNorm` (TRL's
 * `max_grad_norm`, default 1), then the optimizer's step. Call it inside `tidy`.
 *
 * @returns the gradient norm before clipping, a 0-d tensor
 */
export function applyGradients(
  where: string,
  optimizer: Optimizer<BaseOptions>,
  loss: Tensor,
  maxGradNorm = 1,
): Tensor {
  checkNumber(where, 'maxGradNorm', maxGradNorm, { above: 0 });
  optimizer.zeroGrad();
  loss.backward();
  const norm = clipGradNorm(
    optimizer.groups.flatMap((g) => g.params),
    maxGradNorm,
  );
  optimizer.step();
  return norm;
}
