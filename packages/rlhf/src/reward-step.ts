import type { BaseOptions, Optimizer } from '@tessera/optim';
import { checkOptions, mul, noGrad, slice, sum, type Tensor, tidy } from '@tessera/tensor-webgpu';
import { batchTensors, checkOnePerRow, lastTokenIndices, oneHotRows } from './batch-tensors.js';
import type { ScalarModel } from './models.js';
import { applyGradients } from './optimizer-step.js';
import type { TokenBatch } from './packing.js';
import { type RewardLossOptions, rewardModelLoss } from './reward-model.js';

/**
 * The reward model's score of every row of a batch: its output at the row's last real token,
 * f32 [rows] (TRL `RewardTrainer`; InstructGPT reads the reward at the end of the sequence).
 * Differentiable; run it inside `tidy`.
 *
 * @throws RangeError - a packed row
 */
export function sequenceScores(model: ScalarModel, batch: TokenBatch): Tensor {
  checkOnePerRow('sequenceScores', batch);
  const { ids } = batchTensors(batch, model.device);
  const last = oneHotRows(lastTokenIndices(batch), batch.length, model.device);
  return sum(mul(model.forward(ids), last), -1);
}

/** The Bradley–Terry loss of a `preferenceBatch` under the reward model, with its statistics. */
function pairLoss(model: ScalarModel, batch: TokenBatch, options: RewardLossOptions) {
  if (batch.rows % 2 !== 0)
    throw new RangeError(
      `rewardStep: a preference batch has 2·B rows (chosen, then rejected), got ${batch.rows}`,
    );
  const scores = sequenceScores(model, batch);
  const pairs = batch.rows / 2;
  return rewardModelLoss(slice(scores, 0, 0, pairs), slice(scores, 0, pairs), options);
}

export interface RewardStepOptions extends RewardLossOptions {
  /** Clip the global gradient norm to this. Default 1 (TRL `max_grad_norm`). */
  maxGradNorm?: number;
}

/** What a reward-model step (or evaluation) measured. */
export interface RewardStepResult {
  /** Mean −log σ(r_chosen − r_rejected − margin) (+ the centring term). */
  loss: number;
  /** Share of pairs scored in the right order. */
  accuracy: number;
  /** Mean r_chosen − r_rejected. */
  margin: number;
}

/**
 * One reward-model step on a `preferenceBatch`: scores at each row's last token, the pairwise
 * Bradley–Terry loss (`rewardModelLoss`, with its margin and centring options), gradients,
 * clipping, the optimizer's update.
 *
 * Reference: Ouyang et al., InstructGPT (2022), eq. 1; TRL `RewardTrainer`.
 *
 * @throws RangeError - an odd number of rows, a packed row, or bad options
 */
export async function rewardStep(
  model: ScalarModel,
  optimizer: Optimizer<BaseOptions>,
  batch: TokenBatch,
  options: RewardStepOptions = {},
): Promise<RewardStepResult> {
  checkOptions('rewardStep', options, ['margin', 'centerRewardsCoefficient', 'maxGradNorm']);
  const { maxGradNorm, ...lossOptions } = options;
  const out = tidy(() => {
    const r = pairLoss(model, batch, lossOptions);
    applyGradients('rewardStep', optimizer, r.loss, maxGradNorm);
    return r;
  });
  return readResult(out);
}

/** The reward model's loss, pair accuracy and mean margin on a `preferenceBatch`, without gradient. */
export async function rewardEval(
  model: ScalarModel,
  batch: TokenBatch,
  options: RewardLossOptions = {},
): Promise<RewardStepResult> {
  checkOptions('rewardEval', options, ['margin', 'centerRewardsCoefficient']);
  return readResult(noGrad(() => tidy(() => pairLoss(model, batch, options))));
}

async function readResult(r: { loss: Tensor; accuracy: Tensor; margin: Tensor }) {
  const [loss, accuracy, margin] = await Promise.all([
    r.loss.item(),
    r.accuracy.item(),
    r.margin.item(),
  ]);
  for (const t of [r.loss, r.accuracy, r.margin]) t.dispose();
  return { loss, accuracy, margin };
}
