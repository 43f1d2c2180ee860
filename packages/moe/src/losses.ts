import {
  cast,
  div,
  logsumexp,
  mean,
  mul,
  noGrad,
  square,
  sum,
  type Tensor,
} from '@tessera/tensor-webgpu';
import type { RouterScoring } from './router.js';

/**
 * The Switch Transformer load-balancing loss (Fedus et al., 2021, eq. 4–6), for top-k routing:
 *
 *   L = E · Σᵢ fᵢ · Pᵢ,  fᵢ = countᵢ / (N · k),  Pᵢ = (1/N) Σₜ pₜᵢ
 *
 * where countᵢ is the number of (token, choice) assignments to expert i before any capacity cut,
 * N the number of tokens, and pₜᵢ the router's probability of expert i for token t (for a
 * sigmoid router, the scores divided by their sum over the experts, as DeepSeek-V3's eq. 20). fᵢ
 * is a fraction of the N·k assignments, so Σᵢ fᵢ = 1 and perfectly uniform routing gives L = 1
 * whatever k is. This is DeepSeek-V2/V3's normalisation (f with the 1/k factor) and Switch's
 * for k = 1. Hugging Face's `load_balancing_loss_func` (Mixtral, Qwen-MoE) divides the counts by
 * N only, so its value is k times this one. f is a count and carries no gradient; the loss
 * trains the router through P.
 *
 * @param probs - [N, E] f32 router probabilities (see `balanceProbabilities`)
 * @param counts - [E] i32 or f32 assignments per expert (`DispatchPlan.counts`)
 * @param topK - k, the experts each token chose
 * @returns a scalar f32 tensor
 * @throws RangeError - shapes that do not fit, or k not a positive integer
 */
export function loadBalancingLoss(probs: Tensor, counts: Tensor, topK: number): Tensor {
  if (probs.rank !== 2 || counts.rank !== 1 || counts.shape[0] !== probs.shape[1])
    throw new RangeError(
      `loadBalancingLoss: probs must be [tokens, E] and counts [E], got [${probs.shape.join(', ')}] and [${counts.shape.join(', ')}]`,
    );
  if (!Number.isInteger(topK) || topK < 1)
    throw new RangeError(`loadBalancingLoss: topK must be a positive integer, got ${topK}`);
  const [n, experts] = probs.shape as [number, number];
  const f = noGrad(() => div(counts.dtype === 'f32' ? counts : cast(counts, 'f32'), n * topK));
  return mul(sum(mul(f, mean(probs, 0))), experts);
}

/**
 * The probabilities the load-balancing loss averages: softmax scores as they are, sigmoid
 * scores normalised to sum to 1 over the experts (DeepSeek-V3, eq. 20).
 *
 * @param scores - [N, E] f32 router scores
 */
export function balanceProbabilities(scores: Tensor, scoring: RouterScoring): Tensor {
  return scoring === 'softmax' ? scores : div(scores, sum(scores, -1, { keepDim: true }));
}

/**
 * The router z-loss of ST-MoE (Zoph et al., 2022, eq. 5): the mean over tokens of the squared
 * log-sum-exp of the router logits, L_z = (1/N) Σₜ (log Σⱼ exp xₜⱼ)². It keeps the logits small,
 * which keeps the router's softmax stable in low precision.
 *
 * @param logits - [N, E] f32 router logits
 * @returns a scalar f32 tensor
 * @throws RangeError - logits not 2-D
 */
export function routerZLoss(logits: Tensor): Tensor {
  if (logits.rank !== 2)
    throw new RangeError(
      `routerZLoss: logits must be [tokens, E], got [${logits.shape.join(', ')}]`,
    );
  return mean(square(logsumexp(logits, -1)));
}
