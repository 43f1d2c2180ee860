import { type CausalLM, generateBatch, tokenLogprobs } from '@tessera/sampler';
import {
  checkOptions,
  div,
  mean,
  mul,
  noGrad,
  sub,
  sum,
  type Tensor,
  tensor,
  tidy,
} from '@tessera/tensor-webgpu';
import { oneHotRows } from './batch-tensors.js';
import { checkChoice, checkNumber } from './check.js';
import { gae } from './gae.js';
import type { ScalarModel } from './models.js';
import { ppoRewards } from './ppo.js';
import { shiftRight } from './shift.js';
import { maskedWhiten } from './whiten.js';

/** The four models of RLHF with PPO (InstructGPT; TRL `PPOTrainer`). */
export interface PpoModels {
  /** The policy being trained (it samples the rollouts). */
  policy: CausalLM;
  /** The frozen reference policy (the SFT model): the per-token KL penalty anchors to it. */
  reference: CausalLM;
  /** The value model (a trunk and a scalar head, usually initialised from the reward model). */
  value: ScalarModel;
  /** The frozen reward model: its output at a completion's last token is the completion's score. */
  reward: ScalarModel;
}

export interface RolloutOptions {
  /** Tokens to sample per completion at most. */
  maxNewTokens: number;
  /** A completion ends after any of these ids (its EOS), which it includes. */
  stopTokenIds?: readonly number[];
  /** Sampling temperature; the log-probs are of the logits divided by it, as TRL. Default 1. */
  temperature?: number;
  /** Prompt i samples with seed `seed + i`. Default 0. */
  seed?: number;
  /** β of the per-token KL penalty (a `KLController`'s value). */
  klCoef: number;
  /** `'k1'` (default, TRL) or `'k3'`. */
  klEstimator?: 'k1' | 'k3';
  /** GAE discount γ. Default 1. */
  gamma?: number;
  /** GAE λ. Default 0.95. */
  lambda?: number;
  /**
   * Subtracted from the score of a completion that ends without a stop token (TRL
   * `missing_eos_penalty`). Default 0 (none); needs `stopTokenIds`.
   */
  missingEosPenalty?: number;
  /** Id written into padding. Default 0. */
  padId?: number;
}

const ROLLOUT_KEYS = [
  'maxNewTokens',
  'stopTokenIds',
  'temperature',
  'seed',
  'klCoef',
  'klEstimator',
  'gamma',
  'lambda',
  'missingEosPenalty',
  'padId',
] as const;

/** A rollout's figures, read back once. */
export interface RolloutStats {
  /** Mean score of the completions (the reward model's, after the missing-EOS penalty). */
  score: number;
  /** Mean over completions of Σ_t KL_t: the sequence KL to the reference (nats), what a `KLController` steers. */
  kl: number;
  /** Mean over completions of Σ_t −β·KL_t (TRL `objective/non_score_reward`). */
  nonScoreReward: number;
  /** score + nonScoreReward (TRL `objective/rlhf_reward`). */
  rlhfReward: number;
  /** Mean completion length in tokens. */
  length: number;
  /** Share of completions that ended with a stop token. */
  eosFraction: number;
}

/**
 * One PPO rollout batch, all tensors [B, T] over prompt + completion rows (right-padded) and
 * aligned to tokens: entry t is about the token at t. Free it with `dispose()`.
 */
export interface Rollout {
  /** i32: each row's prompt, then its completion, then padding. */
  ids: Tensor;
  /** f32: 1 on completion tokens (the stop token included), 0 on prompt and padding. */
  mask: Tensor;
  /** Each completion's tokens (host copies). */
  completions: number[][];
  /** Each prompt's length: row b's completion starts at column `promptLengths[b]`. */
  promptLengths: number[];
  /** The sampling policy's log-probs of the completion tokens (temperature applied). */
  logprobs: Tensor;
  /** The reference model's log-probs of the same tokens. */
  refLogprobs: Tensor;
  /** The value model's estimate of the state before each completion token. */
  values: Tensor;
  /** Per-completion scores [B]. */
  scores: Tensor;
  /** Whitened GAE advantages. */
  advantages: Tensor;
  /** GAE returns (the value targets). */
  returns: Tensor;
  stats: RolloutStats;
  dispose(): void;
}

/**
 * Collects one PPO rollout batch as InstructGPT and TRL `PPOTrainer` do: the policy samples a
 * completion for every prompt (`generateBatch`: batched decoding with per-row KV caches, a seed
 * per prompt); then, without gradient, the policy's and the reference's log-probs of the sampled
 * tokens, the value model's estimates, and the reward model's score at each completion's last
 * token; the per-token rewards −β·KL plus the score at the last token (`ppoRewards`); GAE
 * advantages and returns (`gae`); and the advantages whitened over completion tokens
 * (`maskedWhiten`).
 *
 * References: Ouyang et al., InstructGPT (2022); Ziegler et al. (2019); Huang et al., "The N+
 * Implementation Details of RLHF with PPO" (2024).
 *
 * @param prompts - token ids of each prompt (e.g. a chat template up to the assistant's turn)
 * @throws TypeError / RangeError - bad options, or an empty list of prompts
 */
export async function ppoRollout(
  models: PpoModels,
  prompts: readonly (readonly number[])[],
  options: RolloutOptions,
): Promise<Rollout> {
  const where = 'ppoRollout';
  checkOptions(where, options, ROLLOUT_KEYS);
  checkOptions(where, models, ['policy', 'reference', 'value', 'reward']);
  if (!Array.isArray(prompts) || prompts.length === 0)
    throw new RangeError(`${where}: prompts must be a non-empty array of token-id arrays`);
  const maxNewTokens = checkNumber(where, 'maxNewTokens', options.maxNewTokens, {
    min: 1,
    integer: true,
  });
  const temperature = checkNumber(where, 'temperature', options.temperature ?? 1, { above: 0 });
  const seed = checkNumber(where, 'seed', options.seed ?? 0, { integer: true });
  const klCoef = checkNumber(where, 'klCoef', options.klCoef, { min: 0 });
  const estimator = checkChoice(where, 'klEstimator', options.klEstimator ?? 'k1', ['k1', 'k3']);
  const penalty = checkNumber(where, 'missingEosPenalty', options.missingEosPenalty ?? 0, {
    min: 0,
  });
  const padId = checkNumber(where, 'padId', options.padId ?? 0, { integer: true, min: 0 });
  const stops = new Set(options.stopTokenIds ?? []);
  if (penalty > 0 && stops.size === 0)
    throw new TypeError(`${where}: missingEosPenalty needs stopTokenIds (the EOS)`);
  const { policy, reference, value, reward } = models;
  const device = policy.device;

  const completions = await generateBatch(
    policy,
    prompts,
    prompts.map((_, i) => ({
      maxNewTokens,
      temperature,
      seed: seed + i,
      stopTokenIds: [...stops],
    })),
  );
  const rows = prompts.length;
  const promptLengths = prompts.map((p) => p.length);
  const length = Math.max(...prompts.map((p, i) => p.length + completions[i]!.length));
  const ids = new Int32Array(rows * length).fill(padId);
  const mask = new Float32Array(rows * length);
  const ended = completions.map((c) => c.length > 0 && stops.has(c.at(-1)!));
  prompts.forEach((p, b) => {
    const row = [...p, ...completions[b]!];
    ids.set(row, b * length);
    mask.fill(1, b * length + p.length, b * length + row.length);
  });
  const shape = [rows, length];
  const idsT = tensor(ids, { shape, dtype: 'i32', device });
  const maskT = tensor(mask, { shape, device });

  const scaled = (model: CausalLM): CausalLM => ({
    vocabSize: model.vocabSize,
    device: model.device,
    forward: (x) => div(model.forward(x), temperature),
  });
  const scored = noGrad(() =>
    tidy(() => {
      const logprobs = tokenLogprobs(scaled(policy), idsT, { mask: maskT });
      const refLogprobs = tokenLogprobs(scaled(reference), idsT, { mask: maskT });
      const values = mul(shiftRight(value.forward(idsT)), maskT);
      const last = oneHotRows(
        completions.map((c, b) => promptLengths[b]! + c.length - 1),
        length,
        device,
      );
      const missing = tensor(
        ended.map((e) => (e ? 0 : penalty)),
        { device },
      );
      const scores = sub(sum(mul(reward.forward(idsT), last), -1), missing);
      const { rewards, kl } = ppoRewards(logprobs, refLogprobs, scores, maskT, {
        klCoef,
        estimator,
      });
      const perRow = [mean(sum(kl, -1)), mean(scores)];
      return { logprobs, refLogprobs, values, scores, rewards, perRow };
    }),
  );
  const { advantages: raw, returns } = await gae(scored.rewards, scored.values, maskT, {
    gamma: options.gamma,
    lambda: options.lambda,
  });
  const advantages = noGrad(() => maskedWhiten(raw, maskT));
  const [kl, score] = await Promise.all(scored.perRow.map((t) => t.item()));
  for (const t of [raw, scored.rewards, ...scored.perRow]) t.dispose();
  const stats: RolloutStats = {
    score: score!,
    kl: kl!,
    nonScoreReward: -klCoef * kl!,
    rlhfReward: score! - klCoef * kl!,
    length: completions.reduce((n, c) => n + c.length, 0) / rows,
    eosFraction: ended.filter(Boolean).length / rows,
  };
  const tensors = [
    idsT,
    maskT,
    scored.logprobs,
    scored.refLogprobs,
    scored.values,
    scored.scores,
    advantages,
    returns,
  ];
  return {
    ids: idsT,
    mask: maskT,
    completions,
    promptLengths,
    logprobs: scored.logprobs,
    refLogprobs: scored.refLogprobs,
    values: scored.values,
    scores: scored.scores,
    advantages,
    returns,
    stats,
    dispose: () => {
      for (const t of tensors) t.dispose();
    },
  };
}
