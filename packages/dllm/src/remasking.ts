import {
  argmaxRow,
  type LogitsProcessor,
  type ProcessContext,
  processLogits,
  sampleIndex,
  softmaxRow,
} from '@tessera/sampler';
import type { Rng } from '@tessera/tensor-webgpu';

/**
 * Which predictions a denoising step keeps (LLaDA §2.4): `low-confidence` keeps the most
 * confident and remasks the rest; `random` keeps randomly chosen ones.
 */
export type Remasking = 'low-confidence' | 'random';

/** What the model proposes for one masked position at one step. */
export interface Proposal {
  /** The position's index in the canvas. */
  position: number;
  token: number;
  /** The probability of `token` (low-confidence remasking), or a uniform draw (random). */
  confidence: number;
}

/** How a position's token is chosen. */
export interface ProposalRule {
  /** The mask token: never proposed, and left out of the model's distribution. */
  maskId: number;
  /** The sampler's processors, without temperature. */
  chain: readonly LogitsProcessor[];
  /** 0 picks the most likely token; otherwise a draw from softmax(processed / temperature). */
  temperature: number;
  remasking: Remasking;
  rng: Rng;
}

/**
 * A masked position's proposal from its logits row (the mask token removed): the processors run
 * on a copy of the row, then the token is the argmax (temperature 0) or a draw from
 * softmax(processed / temperature), which is what LLaDA's Gumbel-max sampling draws. Its
 * confidence is its probability under the model's own distribution, as LLaDA and Fast-dLLM
 * measure it (the processors choose the token; they do not make the model surer) — or, for
 * random remasking, a uniform number.
 */
export function propose(
  logits: Float32Array,
  position: number,
  ctx: ProcessContext,
  rule: ProposalRule,
): Proposal {
  const own = Float32Array.from(logits);
  own[rule.maskId] = Number.NEGATIVE_INFINITY;
  const processed = processLogits(own, ctx, rule.chain);
  const token =
    rule.temperature === 0
      ? argmaxRow(processed)
      : sampleIndex(softmaxRow(processed.map((v) => v / rule.temperature)), rule.rng);
  const confidence = rule.remasking === 'random' ? rule.rng.next() : softmaxRow(own)[token]!;
  return { position, token, confidence };
}

/**
 * The proposals a step commits: the `count` most confident (ties to the earlier position), and
 * with a `threshold` (Fast-dLLM's parallel decoding, Wu et al. 2025) also every other whose
 * confidence is at least the threshold — at least one in that case, so that decoding always
 * moves on.
 */
export function chooseCommits(
  proposals: readonly Proposal[],
  count: number,
  threshold?: number,
): Proposal[] {
  const ranked = [...proposals].sort(
    (a, b) => b.confidence - a.confidence || a.position - b.position,
  );
  let take = count;
  if (threshold !== undefined)
    take = Math.max(count, 1, ranked.filter((p) => p.confidence >= threshold).length);
  return ranked.slice(0, take);
}
