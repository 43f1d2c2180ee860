import {
  add,
  checkOptions,
  gt,
  maximum,
  minimum,
  mul,
  noGrad,
  square,
  sub,
  type Tensor,
} from '@tessera/tensor-webgpu';
import { checkNumber, checkTensor } from './check.js';
import { maskedMean } from './masked.js';

export interface ValueLossOptions {
  /** The new values may move at most this far from the old ones before the clip applies. Default 0.2 (TRL `cliprange_value`). */
  cliprangeValue?: number;
}

/** The clipped value loss and how often its clip was active. */
export interface ValueLoss {
  /** 0-d f32, differentiable in `values`. */
  loss: Tensor;
  /** Share of tokens where the clipped error is the larger one (TRL `vf_clipfrac`), 0-d f32, no gradient. */
  clipFraction: Tensor;
}

/**
 * PPO's clipped value loss: ½·masked mean of max((V − R)², (clip(V, V_old − c, V_old + c) − R)²),
 * which keeps the value head from moving further than c from the values it had at rollout.
 * Follows TRL `PPOTrainer` (`vf_losses1`, `vf_losses2`, `vf_loss`).
 *
 * Reference: Schulman et al., "Proximal Policy Optimization Algorithms" (2017) and the OpenAI
 * baselines PPO2 value clipping; Ziegler et al., "Fine-Tuning Language Models from Human
 * Preferences" (2019).
 *
 * @param values - the value head's current predictions V [B, T] f32
 * @param oldValues - its predictions at rollout time V_old [B, T] f32
 * @param returns - the GAE returns R (advantages + old values) [B, T] f32
 * @param mask - completion mask [B, T] f32 (0/1)
 */
export function clippedValueLoss(
  values: Tensor,
  oldValues: Tensor,
  returns: Tensor,
  mask: Tensor,
  options: ValueLossOptions = {},
): ValueLoss {
  const where = 'clippedValueLoss';
  checkOptions(where, options, ['cliprangeValue']);
  const c = checkNumber(where, 'cliprangeValue', options.cliprangeValue ?? 0.2, { min: 0 });
  const sizes = {};
  checkTensor(where, 'values', values, { shape: ['B', 'T'] }, sizes);
  checkTensor(where, 'oldValues', oldValues, { shape: ['B', 'T'] }, sizes);
  checkTensor(where, 'returns', returns, { shape: ['B', 'T'] }, sizes);
  checkTensor(where, 'mask', mask, { shape: ['B', 'T'] }, sizes);
  const clipped = minimum(maximum(values, sub(oldValues, c)), add(oldValues, c));
  const unclippedError = square(sub(values, returns));
  const clippedError = square(sub(clipped, returns));
  const loss = mul(maskedMean(maximum(unclippedError, clippedError), mask), 0.5);
  const clipFraction = noGrad(() => maskedMean(gt(clippedError, unclippedError), mask));
  return { loss, clipFraction };
}
