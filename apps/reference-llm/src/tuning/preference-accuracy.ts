import { completionLogps } from '@tessera/rlhf';
import { noGrad, tidy } from '@tessera/tensor-webgpu';
import type { DecoderLM } from '@tessera/transformer';
import type { ChatFormat } from './chat-format.js';
import type { PreferenceExample } from './jsonl.js';
import { encodePair, pairBatch } from './pairs.js';

/**
 * A language model's preference accuracy on preference pairs, 0–1: the share of pairs where the
 * model gives the chosen reply a higher mean per-token log-likelihood than the rejected one,
 * given the prompt — Σ_t log π(y_t | x, y_<t) / |y| over the reply's tokens (its ChatML
 * completion mask, as DPO scores them: `encodePair`, `pairBatch`, `@tessera/rlhf`'s
 * `completionLogps`), compared strictly, so a tie counts as a miss. The length-normalised
 * log-likelihood is SimPO's implicit reward (Meng et al., "SimPO", 2024), so this is SimPO's
 * reward accuracy at any β. Runs `batchSize` pairs per forward pass, with dropout off (call
 * `model.eval()` first); pairs longer than the model's window are cut as DPO cuts them.
 *
 * @throws RangeError - no pairs, or `batchSize` not a positive integer
 */
export async function likelihoodPreferenceAccuracy(
  model: DecoderLM,
  chat: ChatFormat,
  pairs: readonly PreferenceExample[],
  batchSize: number,
): Promise<number> {
  if (pairs.length === 0)
    throw new RangeError(
      'likelihoodPreferenceAccuracy: pairs is empty; expected at least one pair',
    );
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(
      `likelihoodPreferenceAccuracy: batchSize ${batchSize}; expected a positive integer`,
    );
  const encoded = pairs.map((p) => encodePair(chat, p));
  let hits = 0;
  for (let i = 0; i < encoded.length; i += batchSize) {
    const part = encoded.slice(i, i + batchSize);
    const { logps, lengths } = noGrad(() =>
      tidy(() => completionLogps(model, pairBatch(part, model.config.maxSeqLen))),
    );
    const [sums, counts] = await Promise.all([logps.data(), lengths.data()]);
    logps.dispose();
    lengths.dispose();
    // Rows: the part's chosen replies, then its rejected ones (`preferenceBatch`).
    for (let j = 0; j < part.length; j++) {
      const k = j + part.length;
      if (sums[j]! / counts[j]! > sums[k]! / counts[k]!) hits++;
    }
  }
  return hits / pairs.length;
}
