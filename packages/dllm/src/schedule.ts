/**
 * How many masked positions a denoising step commits: `linear` spreads them evenly over the
 * steps (the linear schedule α_t = 1 − t discretised into equal intervals, LLaDA's
 * `get_num_transfer_tokens`); `cosine` keeps more masked early and commits most late (MaskGIT,
 * Chang et al. 2022: after step s of S, ⌊n·cos(π/2 · s/S)⌋ positions are still masked).
 */
export type UnmaskSchedule = 'linear' | 'cosine';

/**
 * The number of positions to commit at each of `steps` steps so that `masked` positions are all
 * committed after the last: `linear` gives ⌊n/S⌋ per step and one more to each of the first
 * n mod S steps (LLaDA); `cosine` gives the differences of ⌊n·cos(π/2 · s/S)⌋. A step may commit
 * 0 (when n < S, or early in the cosine schedule); the counts always sum to `masked`.
 *
 * @throws RangeError - `masked` not an integer ≥ 0, `steps` not an integer ≥ 1, or an unknown
 *   schedule
 */
export function transferCounts(
  masked: number,
  steps: number,
  schedule: UnmaskSchedule = 'linear',
): number[] {
  if (!Number.isInteger(masked) || masked < 0)
    throw new RangeError(`transferCounts: masked must be an integer >= 0, got ${masked}`);
  if (!Number.isInteger(steps) || steps < 1)
    throw new RangeError(`transferCounts: steps must be an integer >= 1, got ${steps}`);
  if (schedule === 'linear') {
    const base = Math.floor(masked / steps);
    return Array.from({ length: steps }, (_, i) => base + (i < masked % steps ? 1 : 0));
  }
  if (schedule === 'cosine') {
    const left = (s: number) =>
      s === steps ? 0 : Math.floor(masked * Math.cos(((Math.PI / 2) * s) / steps));
    return Array.from({ length: steps }, (_, i) => left(i) - left(i + 1));
  }
  throw new RangeError(
    `transferCounts: schedule must be 'linear' or 'cosine', got ${JSON.stringify(schedule)}`,
  );
}
