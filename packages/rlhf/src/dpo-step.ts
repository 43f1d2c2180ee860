import type { BaseOptions, Optimizer } from '@tessera/optim';
import { type CausalLM, tokenLogprobs } from '@tessera/sampler';
import {
  add,
  checkOptions,
  div,
  maximum,
  mean,
  mul,
  neg,
  noGrad,
  slice,
  sum,
  type Tensor,
  tensor,
  tidy,
} from '@tessera/tensor-webgpu';
import { batchTensors, checkOnePerRow } from './batch-tensors.js';
import { checkChoice, checkNumber } from './check.js';
import { dpoLoss, type PreferenceLoss, simpoLoss } from './dpo.js';
import { applyGradients } from './optimizer-step.js';
import type { TokenBatch } from './packing.js';

/** Summed completion log-probs of a batch's rows and their completion lengths. */
export interface CompletionLogps {
  /** Σ_t log π(y_t | …) over each row's completion tokens (its loss mask), f32 [rows]. */
  logps: Tensor;
  /** Completion tokens per row, f32 [rows]. */
  lengths: Tensor;
}

/**
 * Each row's completion log-probability under `model`: `tokenLogprobs` (on the device,
 * differentiable) masked by the batch's loss mask, summed over the row. Run the model with
 * dropout off (`eval()`), as DPO's log-ratios assume (TRL disables dropout). Run inside `tidy`.
 *
 * @throws RangeError - a packed row
 */
export function completionLogps(model: CausalLM, batch: TokenBatch): CompletionLogps {
  checkOnePerRow('completionLogps', batch);
  const { ids, lossMask } = batchTensors(batch, model.device);
  const lengths = new Float32Array(batch.rows);
  batch.lossMask.forEach((m, i) => {
    lengths[Math.floor(i / batch.length)]! += m;
  });
  return {
    logps: sum(tokenLogprobs(model, ids, { mask: lossMask }), -1),
    lengths: tensor(lengths, { device: model.device }),
  };
}

/** The preference losses `dpoStep` trains with. */
export type PreferenceLossType = 'sigmoid' | 'ipo' | 'hinge' | 'simpo';

export interface DpoStepOptions {
  /** `'sigmoid'` (DPO, default), `'ipo'`, `'hinge'` (all against the reference), or `'simpo'` (reference-free). */
  lossType?: PreferenceLossType;
  /** β. Default 0.1 (TRL). */
  beta?: number;
  /** Label-flip probability ε in [0, 0.5): cDPO (`'sigmoid'`) or SimPO's smoothing. Default 0. */
  labelSmoothing?: number;
  /** SimPO's target margin γ. Default 0.5 (TRL `simpo_gamma`). */
  gamma?: number;
  /**
   * Weight α of the chosen replies' negative log-likelihood (per token) added to the loss: RPO
   * (Pang et al., "Iterative Reasoning Preference Optimization", 2024; TRL `rpo_alpha`), which
   * keeps the chosen replies likely while the margin grows. Default 0 (none).
   */
  rpoAlpha?: number;
  /** Clip the global gradient norm to this. Default 1. */
  maxGradNorm?: number;
}

const LOSS_KEYS = ['lossType', 'beta', 'labelSmoothing', 'gamma', 'rpoAlpha'] as const;

/** What a DPO step (or evaluation) measured; the rewards are the implicit ones, β·log-ratios (SimPO: β·mean log-prob). */
export interface DpoStepResult {
  loss: number;
  /** Share of pairs whose chosen implicit reward is higher (TRL `rewards/accuracies`). */
  accuracy: number;
  /** Mean chosen − rejected implicit reward (TRL `rewards/margins`). */
  margin: number;
  /** Mean implicit reward of the chosen completions (TRL `rewards/chosen`). */
  chosenReward: number;
  /** Mean implicit reward of the rejected completions (TRL `rewards/rejected`). */
  rejectedReward: number;
}

function preferenceLoss(
  where: string,
  policy: CausalLM,
  reference: CausalLM | undefined,
  batch: TokenBatch,
  options: Omit<DpoStepOptions, 'maxGradNorm'>,
): PreferenceLoss {
  const { lossType = 'sigmoid', gamma, rpoAlpha = 0, ...rest } = options;
  checkChoice(where, 'lossType', lossType, ['sigmoid', 'ipo', 'hinge', 'simpo']);
  checkNumber(where, 'rpoAlpha', rpoAlpha, { min: 0 });
  if (batch.rows % 2 !== 0)
    throw new RangeError(
      `${where}: a preference batch has 2·B rows (chosen, then rejected), got ${batch.rows}`,
    );
  const pairs = batch.rows / 2;
  const halves = (x: Tensor) => [slice(x, 0, 0, pairs), slice(x, 0, pairs)] as const;
  const { logps, lengths } = completionLogps(policy, batch);
  const [chosenLogps, rejectedLogps] = halves(logps);
  const [chosenLengths, rejectedLengths] = halves(lengths);
  let r: PreferenceLoss;
  if (lossType === 'simpo') {
    r = simpoLoss(
      { chosenLogps, rejectedLogps, chosenLengths, rejectedLengths },
      { ...rest, ...(gamma !== undefined && { gamma }) },
    );
  } else {
    if (gamma !== undefined)
      throw new TypeError(`${where}: gamma is SimPO's margin; lossType is '${lossType}'`);
    if (!reference)
      throw new TypeError(`${where}: lossType '${lossType}' needs the reference model`);
    const ref = noGrad(() => completionLogps(reference, batch).logps);
    const [refChosenLogps, refRejectedLogps] = halves(ref);
    r = dpoLoss(
      {
        chosenLogps,
        rejectedLogps,
        refChosenLogps,
        refRejectedLogps,
        chosenLengths,
        rejectedLengths,
      },
      { lossType, ...rest },
    );
  }
  if (rpoAlpha === 0) return r;
  // RPO: + α · (−Σ log π(chosen) / chosen tokens), the token-mean NLL of the chosen replies.
  const nll = div(neg(sum(chosenLogps)), maximum(sum(chosenLengths), 1));
  return { ...r, loss: add(r.loss, mul(nll, rpoAlpha)) };
}

/**
 * One preference-optimisation step on a `preferenceBatch`: the policy's summed completion
 * log-probs of both sides in one forward pass, the frozen reference's (without gradient), the
 * loss (`dpoLoss`: DPO, cDPO, IPO, hinge; or `simpoLoss`, which needs no reference; plus RPO's
 * NLL of the chosen replies with `rpoAlpha`), gradients,
 * clipping, the optimizer's update. Both models run with dropout off (call `eval()` on them):
 * at initialisation, with the policy equal to the reference, the DPO loss is then ln 2 exactly.
 *
 * References: Rafailov et al., "Direct Preference Optimization" (2023); TRL `DPOTrainer`
 * (`concatenated_forward`, `dpo_loss`); Meng et al., "SimPO" (2024).
 *
 * @param reference - the frozen reference model (usually the SFT model); not needed by `'simpo'`
 * @throws TypeError / RangeError - no reference for a loss that needs one, an odd number of
 *   rows, a packed row, or bad options
 */
export async function dpoStep(
  policy: CausalLM,
  reference: CausalLM | undefined,
  optimizer: Optimizer<BaseOptions>,
  batch: TokenBatch,
  options: DpoStepOptions = {},
): Promise<DpoStepResult> {
  checkOptions('dpoStep', options, [...LOSS_KEYS, 'maxGradNorm']);
  const { maxGradNorm, ...lossOptions } = options;
  const out = tidy(() => {
    const r = preferenceLoss('dpoStep', policy, reference, batch, lossOptions);
    applyGradients('dpoStep', optimizer, r.loss, maxGradNorm);
    return r;
  });
  return readResult(out);
}

/**
 * The preference loss and implicit-reward statistics of a `preferenceBatch` without gradient:
 * held-out implicit-reward accuracy and margins.
 */
export async function dpoEval(
  policy: CausalLM,
  reference: CausalLM | undefined,
  batch: TokenBatch,
  options: Omit<DpoStepOptions, 'maxGradNorm'> = {},
): Promise<DpoStepResult> {
  checkOptions('dpoEval', options, LOSS_KEYS);
  return readResult(
    noGrad(() => tidy(() => preferenceLoss('dpoEval', policy, reference, batch, options))),
  );
}

async function readResult(r: PreferenceLoss): Promise<DpoStepResult> {
  const means = noGrad(() =>
    tidy(() => [r.margins, r.chosenRewards, r.rejectedRewards].map((x) => mean(x))),
  );
  const [loss, accuracy, margin, chosenReward, rejectedReward] = await Promise.all(
    [r.loss, r.accuracy, ...means].map((t) => t.item()),
  );
  for (const t of [...means, ...Object.values(r)]) t.dispose();
  return {
    loss: loss!,
    accuracy: accuracy!,
    margin: margin!,
    chosenReward: chosenReward!,
    rejectedReward: rejectedReward!,
  };
}
