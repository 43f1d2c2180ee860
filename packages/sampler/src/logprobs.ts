import {
  cat,
  checkOptions,
  crossEntropy,
  mul,
  neg,
  slice,
  type Tensor,
  tensor,
  zeros,
} from '@tessera/tensor-webgpu';
import type { CausalLM } from './model.js';

/** Options of `tokenLogprobs`. */
export interface TokenLogprobsOptions {
  /**
   * First position scored, for every row or one per row (e.g. each prompt's length, to score only
   * the completion); earlier positions hold 0. Default 1 (position 0 has no prediction).
   */
  from?: number | readonly number[];
  /** f32 [B, T]: 1 scores the token at that position, 0 leaves 0 there (padding). */
  mask?: Tensor;
}

/**
 * Per-token log-probabilities of `ids` under `model`, computed on the model's device — the
 * [B, T, V] logits are never read back — and differentiable (DPO, PPO and GRPO backpropagate
 * through it).
 *
 * `ids` is i32 [B, T] (rows right-padded to a common T). The result is f32 [B, T] where entry
 * [b, t] is log p(ids[b, t] | ids[b, 0..t−1]): the log-probability of the token AT position t,
 * read from the logits the model gives at position t − 1 (a fused cross-entropy with
 * `reduction: 'none'`, negated). Entry [b, 0] is 0 (nothing predicts the first token), and so
 * is every entry before `from` (or `from[b]`) and wherever `mask` is 0. The sum of a row is the
 * log-likelihood of its scored tokens.
 *
 * Run it inside `tidy` (and `noGrad` when no gradient is needed): it leaves its intermediates,
 * the logits among them, to the caller's scope, since backward needs them. Throws on unknown
 * options, ids that are not i32 [B, T], `from` out of range or of the wrong length, and a mask
 * of the wrong shape, naming them.
 */
export function tokenLogprobs(
  model: CausalLM,
  ids: Tensor,
  options: TokenLogprobsOptions = {},
): Tensor {
  checkOptions('tokenLogprobs', options, ['from', 'mask']);
  if (ids.rank !== 2 || ids.dtype !== 'i32')
    throw new TypeError(
      `tokenLogprobs: ids must be i32 [batch, T], got ${ids.dtype} [${ids.shape.join(', ')}]`,
    );
  const [b, t] = ids.shape as [number, number];
  const from =
    typeof options.from === 'number' || options.from === undefined
      ? new Array<number>(b).fill(options.from ?? 1)
      : [...options.from];
  if (from.length !== b)
    throw new RangeError(`tokenLogprobs: from has ${from.length} entries for ${b} rows`);
  for (const f of from)
    if (!Number.isInteger(f) || f < 1)
      throw new RangeError(`tokenLogprobs: from must be an integer >= 1, got ${f}`);
  const { mask } = options;
  if (mask && (mask.shape.join() !== `${b},${t}` || mask.dtype !== 'f32'))
    throw new RangeError(
      `tokenLogprobs: mask must be f32 [${b}, ${t}], got ${mask.dtype} [${mask.shape.join(', ')}]`,
    );
  const device = model.device;
  const first = Math.min(...from); // positions before it are 0 in every row: skip their logits
  if (first >= t) return zeros([b, t], { device });
  const logits = model.forward(ids);
  const predicted = slice(logits, 1, first - 1, t - 1); // logits at t−1 predict the token at t
  const targets = slice(ids, 1, first, t).contiguous();
  const scored = neg(crossEntropy(predicted, targets, { reduction: 'none' })); // [B, t − first]
  let out = cat([zeros([b, first], { device }), scored], 1);
  if (from.some((f) => f !== first)) {
    const keep = Float32Array.from({ length: b * t }, (_, i) =>
      i % t >= from[Math.floor(i / t)]! ? 1 : 0,
    );
    out = mul(out, tensor(keep, { shape: [b, t], device }));
  }
  return mask ? mul(out, mask) : out;
}
