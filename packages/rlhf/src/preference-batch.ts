import type { BatchOptions, TokenBatch, TokenizedExample } from './packing.js';
import { padSequences } from './packing.js';

/** One preference pair, each side tokenized as prompt + completion with its completion mask. */
export interface PreferencePair {
  /** The preferred conversation (prompt tokens, then the chosen completion). */
  chosen: TokenizedExample;
  /** The same prompt, then the rejected completion. */
  rejected: TokenizedExample;
}

/**
 * The rows of B preference pairs in one batch, one conversation per row: rows 0 … B−1 are the
 * chosen sides and rows B … 2B−1 the rejected ones, in pair order, so one forward pass scores
 * both (TRL's `concatenated_forward`). The loss mask marks completion tokens (the log-probs DPO
 * sums); the last real token of a row is where a reward model reads its score.
 *
 * @throws TypeError / RangeError - as `padSequences`, naming `examples[i]` (i < B: chosen of
 *   pair i, i ≥ B: rejected of pair i − B); an empty list of pairs
 */
export function preferenceBatch(
  pairs: readonly PreferencePair[],
  options: BatchOptions,
): TokenBatch {
  if (!Array.isArray(pairs) || pairs.length === 0)
    throw new RangeError(
      'preferenceBatch: pairs must be a non-empty array of { chosen, rejected }',
    );
  return padSequences([...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)], options);
}
