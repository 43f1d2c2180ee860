import { checkNumber } from '@tessera/rlhf';
import { stack, type Tensor } from '@tessera/tensor-webgpu';
import { groupStds, ZERO_STD } from './groups.js';
import type { GrpoLoss } from './loss.js';

/** What one GRPO step knows about its batch. */
export interface GrpoBatch {
  /** The reward of each completion [B], grouped consecutively. */
  rewards: ArrayLike<number>;
  /** Completions per prompt. */
  groupSize: number;
  /** Completion lengths in tokens [B]. */
  lengths: ArrayLike<number>;
  /** Whether each completion's answer was right [B] (e.g. `numericAnswerReward(...) === 1`). */
  correct?: ArrayLike<boolean | number>;
  /** `grpoLoss`'s result on this batch, for the KL and clip statistics. */
  loss?: GrpoLoss;
}

/** Per-step statistics, plain numbers for a log line (TRL's metric names in brackets). */
export interface GrpoStatistics {
  /** Mean reward [`reward`]. */
  meanReward: number;
  /** Unbiased std of the rewards over the batch [`reward_std`]. */
  rewardStd: number;
  /** Share of groups whose rewards are all equal (no learning signal) [`frac_reward_zero_std`]. */
  zeroStdGroups: number;
  /** Mean completion length in tokens [`completions/mean_length`]. */
  meanLength: number;
  /** Share of correct completions, when `correct` was given. */
  accuracy?: number;
  /** Mean length of the correct completions (undefined when none is). */
  meanLengthCorrect?: number;
  /** Mean length of the incorrect completions (undefined when none is). */
  meanLengthIncorrect?: number;
  /** Masked mean k3 KL to the reference [`kl`], when the loss had reference log-probs. */
  kl?: number;
  /** Share of tokens clipped below [`clip_ratio/low_mean`]. */
  clipLow?: number;
  /** Share of tokens clipped above [`clip_ratio/high_mean`]. */
  clipHigh?: number;
  /** Share of tokens clipped either way [`clip_ratio/region_mean`]. */
  clipRegion?: number;
}

/**
 * Summarises one GRPO step as TRL `GRPOTrainer` logs it: reward mean and std, share of
 * zero-variance groups, completion lengths (overall, correct, incorrect), accuracy, and — from
 * the loss — KL and clip fractions low and high. The device statistics are read back in one
 * transfer. A pure function of the batch: it keeps no state.
 *
 * @throws RangeError - arrays of different lengths, or rewards that are not whole groups
 */
export async function grpoStatistics(batch: GrpoBatch): Promise<GrpoStatistics> {
  const where = 'grpoStatistics';
  const { rewards, groupSize, lengths, correct, loss } = batch;
  const n = rewards.length;
  if (n === 0) throw new RangeError(`${where}: the batch has no completions`);
  for (const [name, list] of [
    ['lengths', lengths],
    ['correct', correct],
  ] as const)
    if (list !== undefined && list.length !== n)
      throw new RangeError(`${where}: ${list.length} ${name} for ${n} rewards`);
  const stds = groupStds(rewards, groupSize);
  const values = Array.from(rewards);
  const meanReward = average(values);
  const squares = values.reduce((sum, r) => sum + (r - meanReward) ** 2, 0);
  const tokens = Array.from(lengths, (l, i) => checkNumber(where, `lengths[${i}]`, l, { min: 0 }));
  const stats: GrpoStatistics = {
    meanReward,
    rewardStd: n > 1 ? Math.sqrt(squares / (n - 1)) : 0,
    zeroStdGroups: stds.filter((std) => std <= ZERO_STD).length / stds.length,
    meanLength: average(tokens),
  };
  if (correct !== undefined) {
    const right = tokens.filter((_, i) => Boolean(correct[i]));
    const wrong = tokens.filter((_, i) => !correct[i]);
    stats.accuracy = right.length / n;
    if (right.length) stats.meanLengthCorrect = average(right);
    if (wrong.length) stats.meanLengthIncorrect = average(wrong);
  }
  if (loss) {
    const scalars: Tensor[] = [loss.clip.low, loss.clip.high, loss.clip.region];
    if (loss.kl) scalars.push(loss.kl);
    const [low, high, region, kl] = await stack(scalars).data();
    Object.assign(stats, { clipLow: low, clipHigh: high, clipRegion: region });
    if (loss.kl) stats.kl = kl;
  }
  return stats;
}

function average(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
