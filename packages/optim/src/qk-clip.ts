import { checkOptions, mul, noGrad, type Tensor, tensor } from '@tessera/tensor-webgpu';

export interface QKClipOptions {
  /** Query heads; rows of W_q are grouped per head. */
  heads: number;
  /** Key/value heads (GQA); default `heads`. */
  kvHeads?: number;
  /** Threshold τ on the max attention logit (Kimi K2 uses 100). */
  tau: number;
}

/**
 * QK-clip, the "Clip" of MuonClip (Kimi K2): after an optimizer step, for every head whose
 * largest pre-softmax attention logit S exceeded τ in the last forward pass, scale that head's
 * query and key projection rows by √(τ/S), so the same inputs would give a logit of at most τ.
 * Heads under the threshold are untouched. Weights are [heads·headDim, dModel] (PyTorch layout);
 * with GQA a key head is scaled by the strongest clip among the query heads that share it.
 * Returns the per-head factors γ = min(1, τ/S) that were applied.
 */
export function qkClip(
  wq: Tensor,
  wk: Tensor,
  maxLogits: readonly number[],
  options: QKClipOptions,
): number[] {
  checkOptions('qkClip', options, ['heads', 'kvHeads', 'tau']);
  const { heads, tau } = options;
  const kvHeads = options.kvHeads ?? heads;
  if (!(tau > 0)) throw new RangeError(`qkClip: tau must be > 0, got ${tau}`);
  if (maxLogits.length !== heads)
    throw new RangeError(
      `qkClip: expected ${heads} max logits (one per query head), got ${maxLogits.length}`,
    );
  if (heads % kvHeads !== 0)
    throw new RangeError(`qkClip: kvHeads (${kvHeads}) must divide heads (${heads})`);
  if (wq.shape[0]! % heads !== 0 || wk.shape[0]! % kvHeads !== 0) {
    throw new RangeError(
      `qkClip: W_q rows (${wq.shape[0]}) and W_k rows (${wk.shape[0]}) must divide into ${heads} and ${kvHeads} heads`,
    );
  }
  const gamma = maxLogits.map((s) => (s > tau ? tau / s : 1));
  const group = heads / kvHeads;
  const kvGamma = Array.from({ length: kvHeads }, (_, h) =>
    Math.min(...gamma.slice(h * group, (h + 1) * group)),
  );
  const scaleRows = (w: Tensor, factors: number[]) => {
    const per = w.shape[0]! / factors.length;
    const column = tensor(
      Array.from({ length: w.shape[0]! }, (_, r) => Math.sqrt(factors[Math.floor(r / per)]!)),
      { device: w.device, shape: [w.shape[0]!, 1] },
    );
    noGrad(() => {
      const scaled = mul(w, column);
      w.copy_(scaled);
      scaled.dispose();
    });
    column.dispose();
  };
  if (gamma.some((g) => g < 1)) {
    scaleRows(wq, gamma);
    scaleRows(wk, kvGamma);
  }
  return gamma;
}
