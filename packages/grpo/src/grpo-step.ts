import type { BaseOptions, Optimizer } from '@tessera/optim';
import { applyGradients, checkNumber } from '@tessera/rlhf';
import { type CausalLM, tokenLogprobs } from '@tessera/sampler';
import {
  abs,
  checkOptions,
  div,
  exp,
  indexSelect,
  max,
  mul,
  noGrad,
  Rng,
  stack,
  sub,
  type Tensor,
  tensor,
  tidy,
} from '@tessera/tensor-webgpu';
import { groupAdvantages, type ScaleRewards } from './advantages.js';
import { type GrpoLossOptions, grpoLoss } from './loss.js';

/** The models of a GRPO step: no value model and no reward model (rewards are verifiable). */
export interface GrpoModels {
  /** The policy being trained; it sampled the completions. */
  policy: CausalLM;
  /**
   * The frozen reference policy (the starting model) for the KL term. Required when `beta` > 0;
   * with β = 0 it may be left out (TRL's default: no reference model is kept), or given to log
   * the KL.
   */
  reference?: CausalLM;
}

/** One generation batch, scored: whole groups of completions, one after another. */
export interface GrpoGroups {
  /** Token ids of the P prompts. */
  prompts: readonly (readonly number[])[];
  /** P·G completions (token ids, prompt excluded), completions p·G..p·G + G − 1 answering prompt p (`sampleGroups`). */
  completions: readonly (readonly number[])[];
  /** One reward per completion (e.g. `scoreCompletions`). */
  rewards: ArrayLike<number>;
}

export interface GrpoStepOptions extends GrpoLossOptions {
  /** Completions per prompt G, >= 2. */
  groupSize: number;
  /** How advantages are scaled (`groupAdvantages`): `'group'` (default), `'batch'`, or `'none'` (Dr. GRPO). */
  scaleRewards?: ScaleRewards;
  /** Added to the std before dividing. Default 1e-4. */
  eps?: number;
  /** Passes μ over the generation batch (TRL `num_iterations`). Default 1. */
  iterations?: number;
  /** Optimizer updates per pass, each on a share of the rows, shuffled per pass. Default 1. */
  minibatches?: number;
  /** The temperature the completions were sampled at: log-probs are of the logits divided by it, as TRL. Default 1. */
  temperature?: number;
  /** Clip the global gradient norm to this. Default 1 (TRL `max_grad_norm`). */
  maxGradNorm?: number;
  /** Seeds the row shuffle. Default 0. */
  seed?: number;
  /** Id written into padding. Default 0. */
  padId?: number;
}

const STEP_KEYS = [
  'groupSize',
  'scaleRewards',
  'eps',
  'iterations',
  'minibatches',
  'temperature',
  'maxGradNorm',
  'seed',
  'padId',
  'beta',
  'epsilonLow',
  'epsilonHigh',
  'lossType',
  'maxCompletionLength',
  'tokensInBatch',
  'accumulationSteps',
] as const;

/** The figures of one optimizer update of a `grpoStep`. */
export interface GrpoUpdate {
  /** The pass over the generation batch (0-based). */
  iteration: number;
  /** `grpoLoss` of the update's rows. */
  loss: number;
  /** Masked mean k3 KL to the reference, when there is one. */
  kl?: number;
  /** Shares of tokens clipped below, above, either way. */
  clipLow: number;
  clipHigh: number;
  clipRegion: number;
  /** max |π/π_old − 1| over the completion tokens: 0 until the policy has moved. */
  ratioDeviation: number;
}

/** What a `grpoStep` did: means over its updates, and each update. */
export interface GrpoStepResult {
  loss: number;
  kl?: number;
  clipLow: number;
  clipHigh: number;
  clipRegion: number;
  /** Completion tokens of the batch (each pass trains on them once). */
  tokens: number;
  updates: GrpoUpdate[];
}

/**
 * The GRPO update on one generation batch, as TRL `GRPOTrainer`: the rows (each prompt followed
 * by one of its completions, right-padded) are scored once, without gradient, by the policy
 * (the old log-probs, stored for every pass) and by the reference when there is one; the
 * rewards become group-relative advantages (`groupAdvantages`); then `iterations` passes, each
 * over the rows shuffled and split into `minibatches`, and for each minibatch the policy's
 * log-probs, `grpoLoss` (clipped ratio to the stored old log-probs, β·k3 to the reference, the
 * `lossType` aggregation), gradients, clipping and one optimizer update. The first update sees
 * ratio 1; later ones see how far the policy moved since generation. The policy should run with
 * dropout off (`eval()`).
 *
 * References: Shao et al., "DeepSeekMath" (2024), Algorithm 1 (GRPO, μ iterations per batch);
 * Yu et al., "DAPO" (2025); Liu et al. 2025 (Dr. GRPO); TRL `GRPOTrainer` v1.9.0
 * (`_generate_and_score_completions`, `_compute_loss`).
 *
 * @throws TypeError / RangeError - bad options, mismatched prompts/completions/rewards, β > 0 without a reference, or more minibatches than rows
 */
export async function grpoStep(
  models: GrpoModels,
  optimizer: Optimizer<BaseOptions>,
  groups: GrpoGroups,
  options: GrpoStepOptions,
): Promise<GrpoStepResult> {
  const where = 'grpoStep';
  checkOptions(where, options, STEP_KEYS);
  checkOptions(where, models, ['policy', 'reference']);
  const {
    groupSize: g,
    scaleRewards,
    eps,
    iterations: i,
    minibatches: m,
    temperature: t,
    maxGradNorm,
    seed: s,
    padId: p,
    ...lossOptions
  } = options;
  const groupSize = checkNumber(where, 'groupSize', g, { min: 2, integer: true });
  const { prompts, completions, rewards } = groups;
  const rows = completions?.length;
  if (!Array.isArray(prompts) || prompts.length === 0 || rows !== prompts.length * groupSize)
    throw new RangeError(
      `${where}: ${rows} completions for ${prompts?.length} prompts; expected groupSize ${groupSize} completions per prompt`,
    );
  if (rewards?.length !== rows)
    throw new RangeError(`${where}: ${rewards?.length} rewards for ${rows} completions`);
  if ((lossOptions.beta ?? 0) > 0 && !models.reference)
    throw new TypeError(`${where}: beta ${lossOptions.beta} > 0 needs models.reference`);
  const iterations = checkNumber(where, 'iterations', i ?? 1, { min: 1, integer: true });
  const minibatches = checkNumber(where, 'minibatches', m ?? 1, {
    min: 1,
    max: rows,
    integer: true,
  });
  const temperature = checkNumber(where, 'temperature', t ?? 1, { above: 0 });
  const padId = checkNumber(where, 'padId', p ?? 0, { integer: true, min: 0 });
  const rng = new Rng(checkNumber(where, 'seed', s ?? 0, { integer: true }));
  const { policy, reference } = models;
  const device = policy.device;

  const batch = rowsOf(prompts, completions, groupSize, padId);
  const ids = tensor(batch.ids, { shape: batch.shape, dtype: 'i32', device });
  const mask = tensor(batch.mask, { shape: batch.shape, device });
  const scaled = (model: CausalLM): CausalLM => ({
    vocabSize: model.vocabSize,
    device: model.device,
    forward: (x) => div(model.forward(x), temperature),
  });
  const stored = noGrad(() =>
    tidy(() => ({
      old: tokenLogprobs(scaled(policy), ids, { mask }),
      ref: reference && tokenLogprobs(scaled(reference), ids, { mask }),
      advantages: groupAdvantages(tensor(Array.from(rewards), { device }), {
        groupSize,
        scaleRewards,
        eps,
      }),
    })),
  );
  const updates: GrpoUpdate[] = [];
  try {
    for (let iteration = 0; iteration < iterations; iteration++) {
      const order = shuffled(rows, rng);
      for (let k = 0; k < minibatches; k++) {
        const part = order.slice(
          Math.floor((k * rows) / minibatches),
          Math.floor(((k + 1) * rows) / minibatches),
        );
        const figures = tidy(() => {
          const index = tensor(Int32Array.from(part), { dtype: 'i32', device });
          const pick = (x: Tensor) => indexSelect(x, 0, index);
          const rowIds = pick(ids);
          const rowMask = pick(mask);
          const logprobs = tokenLogprobs(scaled(policy), rowIds, { mask: rowMask });
          const oldLogprobs = pick(stored.old);
          const r = grpoLoss(
            {
              logprobs,
              oldLogprobs,
              ...(stored.ref && { refLogprobs: pick(stored.ref) }),
              advantages: pick(stored.advantages),
              mask: rowMask,
            },
            lossOptions,
          );
          const deviation = noGrad(() =>
            max(mul(abs(sub(exp(sub(logprobs, oldLogprobs)), 1)), rowMask)),
          );
          applyGradients(where, optimizer, r.loss, maxGradNorm);
          return stack([
            r.loss,
            r.clip.low,
            r.clip.high,
            r.clip.region,
            deviation,
            ...(r.kl ? [r.kl] : []),
          ]);
        });
        const [loss, clipLow, clipHigh, clipRegion, ratioDeviation, kl] = await figures.data();
        figures.dispose();
        updates.push({
          iteration,
          loss: loss!,
          ...(stored.ref && { kl: kl! }),
          clipLow: clipLow!,
          clipHigh: clipHigh!,
          clipRegion: clipRegion!,
          ratioDeviation: ratioDeviation!,
        });
      }
    }
  } finally {
    for (const x of [ids, mask, stored.old, stored.ref, stored.advantages]) x?.dispose();
  }
  const mean = (key: 'loss' | 'kl' | 'clipLow' | 'clipHigh' | 'clipRegion') =>
    updates.reduce((sum, u) => sum + (u[key] ?? 0), 0) / updates.length;
  return {
    loss: mean('loss'),
    ...(reference && { kl: mean('kl') }),
    clipLow: mean('clipLow'),
    clipHigh: mean('clipHigh'),
    clipRegion: mean('clipRegion'),
    tokens: batch.completionTokens,
    updates,
  };
}

/** Each prompt's rows: the prompt, one of its completions, then padding; the mask is 1 on the completion. */
function rowsOf(
  prompts: readonly (readonly number[])[],
  completions: readonly (readonly number[])[],
  groupSize: number,
  padId: number,
): { ids: Int32Array; mask: Float32Array; shape: [number, number]; completionTokens: number } {
  const rows = completions.length;
  const prompt = (b: number) => prompts[Math.floor(b / groupSize)]!;
  const length = Math.max(...completions.map((c, b) => prompt(b).length + c.length));
  const ids = new Int32Array(rows * length).fill(padId);
  const mask = new Float32Array(rows * length);
  let completionTokens = 0;
  completions.forEach((c, b) => {
    const start = b * length + prompt(b).length;
    ids.set(prompt(b), b * length);
    ids.set(c, start);
    mask.fill(1, start, start + c.length);
    completionTokens += c.length;
  });
  return { ids, mask, shape: [rows, length], completionTokens };
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
