import { checkNumber } from '@tessera/rlhf';

/**
 * Below this std a group's rewards count as all equal, as TRL's `torch.isclose(std, 0)`
 * (absolute tolerance 1e-8).
 */
export const ZERO_STD = 1e-8;

/**
 * The unbiased std (n − 1) of each group's rewards, on the host.
 *
 * @param rewards - one reward per completion, grouped consecutively (groupSize per prompt)
 * @param groupSize - completions per prompt, >= 2
 * @returns one std per group
 * @throws RangeError - a bad groupSize, rewards that are not whole groups, or a non-finite reward
 */
export function groupStds(rewards: ArrayLike<number>, groupSize: number): number[] {
  const where = 'groupStds';
  checkNumber(where, 'groupSize', groupSize, { min: 2, integer: true });
  if (rewards.length % groupSize !== 0)
    throw new RangeError(
      `${where}: ${rewards.length} rewards are not whole groups of groupSize ${groupSize}`,
    );
  const stds: number[] = [];
  for (let g = 0; g < rewards.length; g += groupSize) {
    let sum = 0;
    for (let i = g; i < g + groupSize; i++) sum += checkNumber(where, `rewards[${i}]`, rewards[i]);
    const mean = sum / groupSize;
    let squares = 0;
    for (let i = g; i < g + groupSize; i++) squares += (rewards[i]! - mean) ** 2;
    stds.push(Math.sqrt(squares / (groupSize - 1)));
  }
  return stds;
}
