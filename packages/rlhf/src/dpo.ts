import {
  add,
  checkOptions,
  div,
  gt,
  maximum,
  mean,
  mul,
  neg,
  noGrad,
  relu,
  square,
  sub,
  type Tensor,
} from '@tessera/tensor-webgpu';
import { checkChoice, checkNumber, checkTensor } from './check.js';
import { logSigmoid } from './log-sigmoid.js';

/** A preference loss and its batch statistics (statistics are computed without gradient). */
export interface PreferenceLoss {
  /** Mean of `losses`, 0-d f32, differentiable. */
  loss: Tensor;
  /** Per-pair losses [B] f32, differentiable. */
  losses: Tensor;
  /** Implicit rewards of the chosen completions [B] f32 (see each loss for its definition). */
  chosenRewards: Tensor;
  /** Implicit rewards of the rejected completions [B] f32. */
  rejectedRewards: Tensor;
  /** `chosenRewards − rejectedRewards` [B] f32. */
  margins: Tensor;
  /** Share of pairs whose chosen reward is strictly higher, 0-d f32. */
  accuracy: Tensor;
}

/** Summed completion log-probs of a batch of preference pairs, each [B] f32. */
export interface DpoInputs {
  /** Σ_t log π(y_w,t | …) over each chosen completion's tokens (`sequenceSum` of per-token log-probs). */
  chosenLogps: Tensor;
  /** The same for each rejected completion. */
  rejectedLogps: Tensor;
  /** The reference model's summed log-probs of the chosen completions. */
  refChosenLogps: Tensor;
  /** The reference model's summed log-probs of the rejected completions. */
  refRejectedLogps: Tensor;
  /** Completion token counts of the chosen completions [B] f32; required by `'ipo'`. */
  chosenLengths?: Tensor;
  /** Completion token counts of the rejected completions [B] f32; required by `'ipo'`. */
  rejectedLengths?: Tensor;
}

export interface DpoOptions {
  /** `'sigmoid'` (DPO, default), `'ipo'` or `'hinge'` (SLiC). */
  lossType?: 'sigmoid' | 'ipo' | 'hinge';
  /** β: strength of the KL regularisation toward the reference (IPO's τ). Default 0.1, as TRL. */
  beta?: number;
  /**
   * Probability ε in [0, 0.5) that a pair's label is flipped — conservative DPO (cDPO); only
   * with `'sigmoid'`. Default 0.
   */
  labelSmoothing?: number;
}

/**
 * Direct Preference Optimization and its variants on summed completion log-probs. With the
 * log-ratios h_w = log π(y_w) − log π_ref(y_w) and h_l = log π(y_l) − log π_ref(y_l):
 *
 * - `'sigmoid'`: −(1 − ε)·log σ(β(h_w − h_l)) − ε·log σ(−β(h_w − h_l)) (Rafailov et al.,
 *   "Direct Preference Optimization", 2023, eq. 7; ε > 0 is Mitchell's conservative DPO, 2023).
 *   At initialisation (π = π_ref) it is ln 2 for every pair.
 * - `'ipo'`: (h_w/|y_w| − h_l/|y_l| − 1/(2β))², the log-ratios averaged over each completion's
 *   tokens (Azar et al., "A General Theoretical Paradigm to Understand Learning from Human
 *   Preferences", 2023, eq. 17; the per-token average is TRL's, confirmed with the authors).
 * - `'hinge'`: max(0, 1 − β(h_w − h_l)) (Zhao et al., "SLiC-HF", 2023).
 *
 * The implicit rewards are β·h_w and β·h_l (TRL `rewards/chosen`, `rewards/rejected`); the
 * loss is the mean over pairs. Follows TRL `DPOTrainer` (v1.9.0 `_compute_loss`; cDPO as in
 * v0.19.0 `dpo_loss`, from which later versions dropped `label_smoothing` for `'sigmoid'`).
 * Differentiable in the policy's log-probs; the reference log-probs are data.
 *
 * @throws TypeError / RangeError - wrong tensors, a missing length for `'ipo'`, β <= 0, or
 * label smoothing outside [0, 0.5) or with a loss other than `'sigmoid'`
 */
export function dpoLoss(inputs: DpoInputs, options: DpoOptions = {}): PreferenceLoss {
  const where = 'dpoLoss';
  checkOptions(where, options, ['lossType', 'beta', 'labelSmoothing']);
  const lossType = checkChoice(where, 'lossType', options.lossType ?? 'sigmoid', [
    'sigmoid',
    'ipo',
    'hinge',
  ]);
  const beta = checkNumber(where, 'beta', options.beta ?? 0.1, { above: 0 });
  const smoothing = checkNumber(where, 'labelSmoothing', options.labelSmoothing ?? 0, {
    min: 0,
    below: 0.5,
  });
  if (smoothing > 0 && lossType !== 'sigmoid')
    throw new RangeError(
      `${where}: labelSmoothing applies to lossType 'sigmoid' only, got '${lossType}'`,
    );
  const sizes = {};
  const pair = (name: keyof DpoInputs) =>
    checkTensor(where, name, inputs[name], { shape: ['B'] }, sizes);
  const chosen = sub(pair('chosenLogps'), pair('refChosenLogps'));
  const rejected = sub(pair('rejectedLogps'), pair('refRejectedLogps'));
  let losses: Tensor;
  if (lossType === 'ipo') {
    const perToken = (h: Tensor, name: 'chosenLengths' | 'rejectedLengths') => {
      if (inputs[name] === undefined)
        throw new TypeError(
          `${where}: lossType 'ipo' needs inputs.${name} (completion token counts [B])`,
        );
      return div(h, maximum(pair(name), 1));
    };
    const gap = sub(perToken(chosen, 'chosenLengths'), perToken(rejected, 'rejectedLengths'));
    losses = square(sub(gap, 1 / (2 * beta)));
  } else {
    const z = mul(sub(chosen, rejected), beta);
    losses = lossType === 'hinge' ? relu(sub(1, z)) : sigmoidLoss(z, smoothing);
  }
  return preferenceLoss(losses, mul(chosen, beta), mul(rejected, beta));
}

/** Length-normalised completion log-probs of preference pairs, each [B] f32. */
export interface SimpoInputs {
  /** Σ_t log π over each chosen completion's tokens. */
  chosenLogps: Tensor;
  /** Σ_t log π over each rejected completion's tokens. */
  rejectedLogps: Tensor;
  /** Completion token counts of the chosen completions [B] f32. */
  chosenLengths: Tensor;
  /** Completion token counts of the rejected completions [B] f32. */
  rejectedLengths: Tensor;
}

export interface SimpoOptions {
  /** β, the reward scale. Default 0.1, as TRL `CPOConfig` (the SimPO paper uses 2.0–2.5). */
  beta?: number;
  /** γ, the target reward margin. Default 0.5, as TRL `CPOConfig.simpo_gamma`. */
  gamma?: number;
  /** Label-flip probability in [0, 0.5), as for DPO. Default 0. */
  labelSmoothing?: number;
}

/**
 * SimPO: a reference-free preference loss on the average log-prob per token, with a target
 * margin γ: −log σ(β·(log π(y_w)/|y_w| − log π(y_l)/|y_l|) − γ) (with label smoothing ε, the
 * cDPO mixture as for DPO). Implicit rewards are β·log π(y)/|y|.
 *
 * Reference: Meng et al., "SimPO: Simple Preference Optimization with a Reference-Free Reward"
 * (2024), eq. 6. Follows TRL `CPOTrainer` with `loss_type="simpo"` and `cpo_alpha=0` (v1.9.0
 * `cpo_loss`).
 *
 * @throws TypeError / RangeError - wrong tensors, β <= 0, or label smoothing outside [0, 0.5)
 */
export function simpoLoss(inputs: SimpoInputs, options: SimpoOptions = {}): PreferenceLoss {
  const where = 'simpoLoss';
  checkOptions(where, options, ['beta', 'gamma', 'labelSmoothing']);
  const beta = checkNumber(where, 'beta', options.beta ?? 0.1, { above: 0 });
  const gamma = checkNumber(where, 'gamma', options.gamma ?? 0.5);
  const smoothing = checkNumber(where, 'labelSmoothing', options.labelSmoothing ?? 0, {
    min: 0,
    below: 0.5,
  });
  const sizes = {};
  const pair = (name: keyof SimpoInputs) =>
    checkTensor(where, name, inputs[name], { shape: ['B'] }, sizes);
  const chosen = div(pair('chosenLogps'), maximum(pair('chosenLengths'), 1));
  const rejected = div(pair('rejectedLogps'), maximum(pair('rejectedLengths'), 1));
  const z = sub(mul(sub(chosen, rejected), beta), gamma);
  return preferenceLoss(sigmoidLoss(z, smoothing), mul(chosen, beta), mul(rejected, beta));
}

/** −(1 − ε)·log σ(z) − ε·log σ(−z). */
function sigmoidLoss(z: Tensor, smoothing: number): Tensor {
  const clean = neg(logSigmoid(z));
  if (smoothing === 0) return clean;
  return add(mul(clean, 1 - smoothing), mul(neg(logSigmoid(neg(z))), smoothing));
}

function preferenceLoss(losses: Tensor, chosen: Tensor, rejected: Tensor): PreferenceLoss {
  const loss = mean(losses);
  return noGrad(() => {
    const chosenRewards = chosen.detach();
    const rejectedRewards = rejected.detach();
    return {
      loss,
      losses,
      chosenRewards,
      rejectedRewards,
      margins: sub(chosenRewards, rejectedRewards),
      accuracy: mean(gt(chosenRewards, rejectedRewards)),
    };
  });
}
