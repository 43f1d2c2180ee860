import {
  add,
  arange,
  checkOptions,
  div,
  ge,
  lt,
  mul,
  rand,
  reshape,
  slice,
  sub,
  type Tensor,
  tensor,
  where,
} from '@tessera/tensor-webgpu';

/** Options of `maskTokens`. */
export interface MaskTokensOptions {
  /** The mask token's id. */
  maskId: number;
  /** Seed of the draws (t and the masks); the same seed gives the same batch on every backend. */
  seed: number;
  /**
   * The smallest masking rate: t = ε + (1 − ε)·u with u ~ U(0, 1], so t ∈ (ε, 1]. Default 1e-3,
   * as LLaDA's `forward_process` (MDLM's `sampling_eps`): the 1/t weight of the loss then stays
   * below 1/ε, where t ~ U(0, 1] itself gives the loss estimate an infinite variance. 0 samples
   * t ~ U(0, 1] exactly.
   */
  eps?: number;
  /**
   * MDLM's low-discrepancy sampler (Sahoo et al. 2024, §3.5; Kingma et al. 2021): the rows' u
   * are (u₀ + b/B) mod 1 for one uniform u₀ — every batch covers (0, 1] evenly, which lowers the
   * variance of the loss and its gradient without changing their expectation. Default false
   * (independent rates, as LLaDA's reference code draws them).
   */
  stratified?: boolean;
  /**
   * Per row, the number of leading tokens that are never masked: the prompt of a supervised
   * fine-tuning example (LLaDA §2.3). Default none.
   */
  promptLengths?: readonly number[];
}

/** A batch after the forward (noising) process. */
export interface NoisedBatch {
  /** x_t: the ids with every masked position replaced by the mask id, i32 [B, T]. */
  input: Tensor;
  /** 1 where a position is masked (the loss's targets), 0 elsewhere, f32 [B, T]. */
  masked: Tensor;
  /** Each row's masking rate t, f32 [B]. */
  t: Tensor;
}

/**
 * The forward process of a masked diffusion LM with the linear schedule (LLaDA §2.1, MDLM §3 with
 * α_t = 1 − t): per row a rate t = ε + (1 − ε)·u, u ~ U(0, 1]; each token is replaced by the
 * mask token independently with probability t, except a row's first `promptLengths[b]` tokens.
 * Everything is drawn on the device (Philox: the same draws on WebGPU and the CPU), so a
 * training step reads nothing back.
 *
 * @param ids - the clean tokens x_0, i32 [B, T]
 * @throws TypeError / RangeError - ids that are not i32 [B, T], unknown options, ε outside
 *   [0, 1), or prompt lengths that are not one integer in [0, T] per row
 */
export function maskTokens(ids: Tensor, options: MaskTokensOptions): NoisedBatch {
  checkOptions('maskTokens', options, ['maskId', 'seed', 'eps', 'stratified', 'promptLengths']);
  if (ids.rank !== 2 || ids.dtype !== 'i32')
    throw new TypeError(
      `maskTokens: ids must be i32 [batch, T], got ${ids.dtype} [${ids.shape.join(', ')}]`,
    );
  const [rows, length] = ids.shape as [number, number];
  const eps = options.eps ?? 1e-3;
  if (!(eps >= 0 && eps < 1)) throw new RangeError(`maskTokens: eps must be in [0, 1), got ${eps}`);
  const device = ids.device;
  // One draw of [B, T + 1]: column 0 gives each row's rate, the rest the per-token coins.
  const u = rand([rows, length + 1], { seed: options.seed, device });
  let rate = slice(u, 1, 0, 1);
  if (options.stratified) {
    const offsets = div(arange(0, rows, 1, { device, dtype: 'f32' }), rows);
    const spaced = add(slice(rate, 0, 0, 1), reshape(offsets, [rows, 1]));
    rate = sub(spaced, ge(spaced, 1)); // (u₀ + b/B) mod 1
  }
  const t = add(mul(rate, -(1 - eps)), 1); // 1 − (1 − ε)·u ∈ (ε, 1]
  let masked = lt(slice(u, 1, 1, length + 1), t);
  if (options.promptLengths) {
    const prompts = options.promptLengths;
    if (prompts.length !== rows || prompts.some((p) => !Number.isInteger(p) || p < 0 || p > length))
      throw new RangeError(
        `maskTokens: promptLengths must give one integer in [0, ${length}] per row (${rows} rows), got [${prompts.join(', ')}]`,
      );
    const first = tensor(Float32Array.from(prompts), { shape: [rows, 1], device });
    masked = mul(masked, ge(arange(0, length, 1, { device, dtype: 'f32' }), first));
  }
  return { input: where(masked, options.maskId, ids), masked, t: reshape(t, [rows]) };
}
