import { abs, add, exp, log, minimum, neg, sub, type Tensor } from '@tessera/tensor-webgpu';

/**
 * log σ(x) = min(x, 0) − log(1 + e^−|x|), elementwise: stable for large |x| (no overflow, no
 * log 0), like `torch.nn.functional.logsigmoid`. Its gradient is σ(−x), also at x = 0: the
 * minimum gives half the gradient to each side of a tie and |x|'s gradient is 0 there, so
 * 0.5 + 0 = σ(0) (DPO starts exactly there, with policy = reference).
 */
export function logSigmoid(x: Tensor): Tensor {
  return sub(minimum(x, 0), log(add(exp(neg(abs(x))), 1)));
}
