import { checkOptions } from '../errors.js';
import { normalizeAxes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { div, sub } from './binary.js';
import { mean, sum } from './reduce.js';
import { square } from './unary.js';

export interface VarOptions {
  keepDim?: boolean;
  /** Subtracted from the count in the denominator: 1 (default) is the unbiased estimate, as PyTorch. */
  correction?: number;
}

/** Variance over `axes` (all when omitted), two-pass for accuracy. */
export function variance(
  x: Tensor,
  axes?: number | readonly number[],
  options: VarOptions = {},
): Tensor {
  checkOptions('variance', options, ['keepDim', 'correction']);
  const list = normalizeAxes(axes, x.rank, 'var');
  const correction = options.correction ?? 1;
  const count = list.reduce((a, d) => a * x.shape[d]!, 1);
  const centered = sub(x, mean(x, list, { keepDim: true }));
  return div(
    sum(square(centered), list, { keepDim: options.keepDim }),
    Math.max(count - correction, 0),
  );
}
