import { exp, logSoftmax, mul, neg, sum, Tensor } from '@tessera/tensor-webgpu';

/**
 * Shannon entropy (nats) of the categorical distribution softmax(logits) at each position:
 * H = −Σ_v p_v·log p_v, with log p from one log-softmax kernel — TRL's `entropy_from_logits`.
 * Runs on the logits' device, nothing is read back; differentiable (an entropy bonus subtracts
 * it from the loss).
 *
 * @param logits - [..., V] f32 (or f16): e.g. [B, T, V] from a causal LM, scaled by the sampling temperature if any
 * @returns [...] f32 — the logits' shape without its last dimension
 * @throws TypeError - not a floating-point tensor of rank >= 1
 */
export function entropyFromLogits(logits: Tensor): Tensor {
  if (!(logits instanceof Tensor) || logits.rank < 1 || !['f32', 'f16'].includes(logits.dtype))
    throw new TypeError(
      `entropyFromLogits: logits must be a floating-point [..., V] tensor, got ${
        logits instanceof Tensor ? `[${logits.shape.join(', ')}] ${logits.dtype}` : typeof logits
      }`,
    );
  const logp = logSoftmax(logits);
  return neg(sum(mul(exp(logp), logp), -1));
}
