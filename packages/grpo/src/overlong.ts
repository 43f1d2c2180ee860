import { checkNumber } from '@tessera/rlhf';
import { checkOptions } from '@tessera/tensor-webgpu';

export interface OverlongOptions {
  /** L_max: the generation limit. */
  maxLength: number;
  /** L_cache: the soft-penalty buffer before L_max (TRL `soft_punish_cache`). */
  bufferLength: number;
}

/**
 * DAPO's soft overlong punishment, a reward added to the task reward:
 * 0 while |y| ≤ L_max − L_cache, then ((L_max − L_cache) − |y|)/L_cache falling linearly to −1
 * at |y| = L_max, and −1 beyond. The penalty grows smoothly instead of truncated answers
 * simply scoring 0, which would punish sound but long reasoning as noise.
 *
 * Reference: Yu et al., "DAPO" (2025), eq. 13; TRL `get_soft_overlong_punishment` (v1.9.0).
 *
 * @param length - |y|, the completion's length (tokens, as DAPO, or any unit used consistently)
 * @returns a reward in [−1, 0]
 * @throws RangeError - a negative length, or bufferLength outside [0, maxLength]
 */
export function overlongPenalty(length: number, options: OverlongOptions): number {
  const where = 'overlongPenalty';
  checkOptions(where, options, ['maxLength', 'bufferLength']);
  const max = checkNumber(where, 'maxLength', options?.maxLength, { min: 1 });
  const buffer = checkNumber(where, 'bufferLength', options.bufferLength, { min: 0, max });
  checkNumber(where, 'length', length, { min: 0 });
  if (length <= max - buffer) return 0;
  if (length <= max) return (max - buffer - length) / buffer;
  return -1;
}
