import type { BaseOptions, Optimizer } from '@tessera/optim';
import { type CausalLM, tokenLogprobs } from '@tessera/sampler';
import {
  checkOptions,
  div,
  indexSelect,
  noGrad,
  Rng,
  type Tensor,
  tensor,
  tidy,
} from '@tessera/tensor-webgpu';
import { checkNumber } from './check.js';
import { entropyFromLogits } from './entropy.js';
import type { ScalarModel } from './models.js';
import { applyGradients } from './optimizer-step.js';
import { type PpoLossOptions, ppoLoss } from './ppo.js';
import type { Rollout } from './ppo-rollout.js';
import { shiftRight } from './shift.js';

export interface PpoStepOptions extends PpoLossOptions {
  /** Passes over the rollout batch. Default 4 (TRL `num_ppo_epochs`). */
  epochs?: number;
  /** Minibatches each pass is split into (rows shuffled per pass). Default 1 (TRL `num_mini_batches`). */
  minibatches?: number;
  /** The temperature the rollout sampled at (its log-probs are of logits divided by it). Default 1. */
  temperature?: number;
  /** Clip the global gradient norm to this. Default 1. */
  maxGradNorm?: number;
  /** Seeds the row shuffle. Default 0. */
  seed?: number;
}

const STEP_KEYS = [
  'cliprange',
  'cliprangeValue',
  'vfCoef',
  'entropyCoef',
  'epochs',
  'minibatches',
  'temperature',
  'maxGradNorm',
  'seed',
] as const;

/** Means over a `ppoStep`'s minibatch updates (TRL's `loss/*`, `policy/*`, `val/*` logs). */
export interface PpoStepResult {
  /** policyLoss + vfCoef·valueLoss − entropyCoef·entropy. */
  loss: number;
  policyLoss: number;
  valueLoss: number;
  /** Mean entropy of the policy over completion tokens, nats. */
  entropy: number;
  /** Share of tokens where the policy ratio was clipped (TRL `policy/clipfrac_avg`). */
  clipFraction: number;
  /** Share of tokens where the value clip was active (TRL `val/clipfrac_avg`). */
  valueClipFraction: number;
  /** ½ mean (log π − log π_old)² (TRL `policy/approxkl_avg`). */
  approxKl: number;
  /** Optimizer updates made. */
  updates: number;
}

/**
 * The PPO update on one rollout batch, as TRL `PPOTrainer`: `epochs` passes, each over the rows
 * shuffled and split into `minibatches`; for each minibatch the policy's log-probs and entropy
 * (one forward pass), the value model's estimates, `ppoLoss` (clipped surrogate, clipped value
 * loss, entropy bonus), gradients, clipping, one optimizer update. The optimizer holds the
 * policy's and the value model's parameters (TRL trains both with one optimizer). Both models
 * should run with dropout off (`eval()`), so that the first minibatch sees ratio 1.
 *
 * References: Schulman et al., "Proximal Policy Optimization Algorithms" (2017); Ouyang et al.,
 * InstructGPT (2022); TRL `PPOTrainer` (v1.9.0, `trl/experimental/ppo`).
 *
 * @throws TypeError / RangeError - bad options, or more minibatches than rows
 */
export async function ppoStep(
  policy: CausalLM,
  value: ScalarModel,
  optimizer: Optimizer<BaseOptions>,
  rollout: Rollout,
  options: PpoStepOptions = {},
): Promise<PpoStepResult> {
  const where = 'ppoStep';
  checkOptions(where, options, STEP_KEYS);
  const {
    epochs: e,
    minibatches: m,
    temperature: t,
    maxGradNorm,
    seed: s,
    ...lossOptions
  } = options;
  const epochs = checkNumber(where, 'epochs', e ?? 4, { min: 1, integer: true });
  const rows = rollout.ids.shape[0]!;
  const minibatches = checkNumber(where, 'minibatches', m ?? 1, {
    min: 1,
    max: rows,
    integer: true,
  });
  const temperature = checkNumber(where, 'temperature', t ?? 1, { above: 0 });
  const rng = new Rng(checkNumber(where, 'seed', s ?? 0, { integer: true }));
  const device = rollout.ids.device;
  const bonus = (lossOptions.entropyCoef ?? 0) > 0;
  const sums = {
    loss: 0,
    policyLoss: 0,
    valueLoss: 0,
    entropy: 0,
    clipFraction: 0,
    valueClipFraction: 0,
    approxKl: 0,
  };
  let updates = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = shuffled(rows, rng);
    for (let k = 0; k < minibatches; k++) {
      const part = order.slice(
        Math.floor((k * rows) / minibatches),
        Math.floor(((k + 1) * rows) / minibatches),
      );
      const stats = tidy(() => {
        const index = tensor(Int32Array.from(part), { dtype: 'i32', device });
        const pick = (x: Tensor) => indexSelect(x, 0, index);
        const ids = pick(rollout.ids);
        const mask = pick(rollout.mask);
        const logits = div(policy.forward(ids), temperature);
        const scored: CausalLM = { vocabSize: policy.vocabSize, device, forward: () => logits };
        const r = ppoLoss(
          {
            logprobs: tokenLogprobs(scored, ids, { mask }),
            oldLogprobs: pick(rollout.logprobs),
            advantages: pick(rollout.advantages),
            values: shiftRight(value.forward(ids)),
            oldValues: pick(rollout.values),
            returns: pick(rollout.returns),
            mask,
            // The bonus needs the entropy's gradient; otherwise it is only logged.
            entropy: bonus
              ? shiftRight(entropyFromLogits(logits))
              : noGrad(() => shiftRight(entropyFromLogits(logits))),
          },
          lossOptions,
        );
        applyGradients(where, optimizer, r.loss, maxGradNorm);
        return r;
      });
      const names = Object.keys(sums) as (keyof typeof sums)[];
      const values = await Promise.all(names.map((name) => stats[name]!.item()));
      names.forEach((name, i) => {
        sums[name] += values[i]!;
      });
      for (const v of Object.values(stats)) v?.dispose();
      updates++;
    }
  }
  const mean = (x: number) => x / updates;
  return {
    loss: mean(sums.loss),
    policyLoss: mean(sums.policyLoss),
    valueLoss: mean(sums.valueLoss),
    entropy: mean(sums.entropy),
    clipFraction: mean(sums.clipFraction),
    valueClipFraction: mean(sums.valueClipFraction),
    approxKl: mean(sums.approxKl),
    updates,
  };
}

/** 0 … n−1 in a random order (Fisher–Yates). */
function shuffled(n: number, rng: Rng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
