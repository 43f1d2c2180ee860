import { checkNumber } from '@tessera/rlhf';
import { checkOptions } from '@tessera/tensor-webgpu';
import { dynamicSampling } from './dynamic-sampling.js';

/** One generation batch, scored: a payload per group and its completions' rewards. */
export interface DrawnGroups<T> {
  /** One entry per group (for instance a prompt and its G completions). */
  groups: readonly T[];
  /** groups.length × groupSize rewards, grouped consecutively as `groups`. */
  rewards: ArrayLike<number>;
}

export interface FillGroupsOptions {
  /** Completions per prompt G, >= 2. */
  groupSize: number;
  /** Groups whose rewards differ wanted in the training batch, >= 1. */
  targetGroups: number;
  /** Generation batches drawn at most (DAPO / verl `max_num_gen_batches`), >= 1. */
  maxDraws: number;
}

/** The training batch dynamic sampling filled, and what it took. */
export interface FilledGroups<T> {
  /** The kept groups in the order drawn: at most `targetGroups`, fewer when the draws ran out. */
  groups: T[];
  /** Their rewards, groupSize per group, grouped as `groups`. */
  rewards: number[];
  /** Generation batches drawn. */
  draws: number;
  /** Groups drawn in all, and how many of them had all their rewards equal. */
  drawnGroups: number;
  droppedGroups: number;
}

/**
 * DAPO's dynamic sampling with its refill: draw a generation batch, drop the groups whose
 * rewards are all equal (`dynamicSampling`), and draw again until `targetGroups` groups with
 * differing rewards are kept or `maxDraws` batches were drawn; the kept groups beyond the target
 * are left out, as verl's DAPO recipe truncates its accumulated batch to the prompts wanted.
 * `draw(k, missing)` makes the k-th batch (k from 0), `missing` being the groups still wanted:
 * DAPO draws a whole generation batch each time, so that a round fills the batch at once however
 * many groups it drops.
 *
 * Reference: Yu et al., "DAPO" (2025), §3.2 and Algorithm 1 (lines 4–6: sample, filter, repeat
 * until the buffer holds the batch); verl `recipe/dapo` (`max_num_gen_batches`).
 *
 * @throws TypeError / RangeError - bad options; a draw whose rewards are not groupSize per group
 */
export async function fillGroups<T>(
  draw: (k: number, missing: number) => Promise<DrawnGroups<T>>,
  options: FillGroupsOptions,
): Promise<FilledGroups<T>> {
  const where = 'fillGroups';
  checkOptions(where, options, ['groupSize', 'targetGroups', 'maxDraws']);
  const groupSize = checkNumber(where, 'groupSize', options?.groupSize, { min: 2, integer: true });
  const target = checkNumber(where, 'targetGroups', options.targetGroups, {
    min: 1,
    integer: true,
  });
  const maxDraws = checkNumber(where, 'maxDraws', options.maxDraws, { min: 1, integer: true });
  const out: FilledGroups<T> = {
    groups: [],
    rewards: [],
    draws: 0,
    drawnGroups: 0,
    droppedGroups: 0,
  };
  while (out.groups.length < target && out.draws < maxDraws) {
    const batch = await draw(out.draws, target - out.groups.length);
    out.draws++;
    if (batch.rewards.length !== batch.groups.length * groupSize)
      throw new RangeError(
        `${where}: draw ${out.draws - 1} returned ${batch.groups.length} groups and ${batch.rewards.length} rewards; expected ${groupSize} rewards per group`,
      );
    const { keep, drop } = dynamicSampling(batch.rewards, groupSize, 0);
    out.drawnGroups += batch.groups.length;
    out.droppedGroups += drop.length;
    for (const g of keep.slice(0, target - out.groups.length)) {
      out.groups.push(batch.groups[g]!);
      for (let j = 0; j < groupSize; j++) out.rewards.push(batch.rewards[g * groupSize + j]!);
    }
  }
  return out;
}
