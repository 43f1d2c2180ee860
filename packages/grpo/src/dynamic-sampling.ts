import { checkNumber } from '@tessera/rlhf';
import { groupStds, ZERO_STD } from './groups.js';

/** Which groups of a generation batch to train on, and how many more to generate. */
export interface DynamicSampling {
  /** Indices of the groups whose rewards differ (their advantages are not all 0), in order. */
  keep: number[];
  /** Indices of the groups whose rewards are all equal. */
  drop: number[];
  /** How many more groups to generate (and filter) to reach `targetGroups`: max(0, target − kept). */
  refill: number;
}

/**
 * DAPO's dynamic sampling: drop the groups whose rewards are all equal (all correct or all
 * wrong, for a 0/1 reward) — their group-relative advantages are 0, so they add no gradient but
 * dilute the batch — and say how many groups to generate next to fill the batch. Generate,
 * filter, and repeat until `refill` is 0, then train on the first `targetGroups` kept groups.
 *
 * Reference: Yu et al., "DAPO: An Open-Source LLM Reinforcement Learning System at Scale"
 * (2025), §3.2 and eq. 11 (0 < |{correct}| < G).
 *
 * @param rewards - one reward per completion, grouped consecutively
 * @param groupSize - completions per prompt, >= 2
 * @param targetGroups - groups (prompts) wanted per training batch; count the groups already kept
 * from earlier rounds by passing `targetGroups − alreadyKept`
 */
export function dynamicSampling(
  rewards: ArrayLike<number>,
  groupSize: number,
  targetGroups: number,
): DynamicSampling {
  checkNumber('dynamicSampling', 'targetGroups', targetGroups, { min: 0, integer: true });
  const keep: number[] = [];
  const drop: number[] = [];
  groupStds(rewards, groupSize).forEach((std, g) => {
    (std > ZERO_STD ? keep : drop).push(g);
  });
  return { keep, drop, refill: Math.max(0, targetGroups - keep.length) };
}
