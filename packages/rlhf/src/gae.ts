import { checkOptions, type Tensor, tensor } from '@tessera/tensor-webgpu';
import { checkNumber, checkTensor } from './check.js';

export interface GaeOptions {
  /** Discount γ. Default 1 (TRL `PPOConfig.gamma`). */
  gamma?: number;
  /** GAE λ: 0 is the one-step TD error, 1 the Monte-Carlo return minus the value. Default 0.95 (TRL `lam`). */
  lambda?: number;
}

/** Advantages and value targets of a rollout, each [B, T] f32 on the inputs' device, 0 off the mask. */
export interface Gae {
  advantages: Tensor;
  /** advantages + values: the value head's regression targets. */
  returns: Tensor;
}

/**
 * Generalized advantage estimation over each completion's tokens, right to left:
 * δ_t = r_t + γ·V_{t+1} − V_t, A_t = δ_t + γλ·A_{t+1}, with V and A taken as 0 after the last
 * completion token; positions outside the mask are skipped (their advantage is 0 and the
 * recursion passes over them), so a right-padded mask gives exactly TRL `PPOTrainer`'s loop.
 *
 * The recursion runs on the host: it is sequential in T and touches B·T numbers, so one read
 * back and one upload (all three inputs are needed on the host at once, after the rollout has
 * synchronised anyway to score completions) cost less than T rounds of device ops; the figures
 * are in the package README (`npm run bench -w @tessera/rlhf`). Computed in double precision.
 *
 * Reference: Schulman et al., "High-Dimensional Continuous Control Using Generalized Advantage
 * Estimation" (2016), eq. 16.
 *
 * @param rewards - per-token rewards [B, T] f32 (`ppoRewards`)
 * @param values - the value head's predictions at rollout [B, T] f32
 * @param mask - completion mask [B, T] f32 (0/1)
 * @returns advantages and returns (not whitened: pass the advantages to `maskedWhiten`)
 */
export async function gae(
  rewards: Tensor,
  values: Tensor,
  mask: Tensor,
  options: GaeOptions = {},
): Promise<Gae> {
  checkOptions('gae', options, ['gamma', 'lambda']);
  const gamma = checkNumber('gae', 'gamma', options.gamma ?? 1, { min: 0, max: 1 });
  const lambda = checkNumber('gae', 'lambda', options.lambda ?? 0.95, { min: 0, max: 1 });
  const sizes = {};
  checkTensor('gae', 'rewards', rewards, { shape: ['B', 'T'] }, sizes);
  checkTensor('gae', 'values', values, { shape: ['B', 'T'] }, sizes);
  checkTensor('gae', 'mask', mask, { shape: ['B', 'T'] }, sizes);
  const [rows, length] = rewards.shape as [number, number];
  const [r, v, m] = await Promise.all([rewards.data(), values.data(), mask.data()]);
  const advantages = new Float32Array(rows * length);
  const returns = new Float32Array(rows * length);
  for (let b = 0; b < rows; b++) {
    let nextValue = 0;
    let nextAdvantage = 0;
    for (let t = length - 1; t >= 0; t--) {
      const i = b * length + t;
      if (m[i] === 0) continue;
      const delta = r[i]! + gamma * nextValue - v[i]!;
      nextAdvantage = delta + gamma * lambda * nextAdvantage;
      nextValue = v[i]!;
      advantages[i] = nextAdvantage;
      returns[i] = nextAdvantage + v[i]!;
    }
  }
  const like = { shape: rewards.shape, device: rewards.device };
  return { advantages: tensor(advantages, like), returns: tensor(returns, like) };
}
