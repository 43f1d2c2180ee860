import type { FlashOptions } from '@tessera/attention-flash';
import * as T from '@tessera/tensor-webgpu';

/** An attention entry point: `attention` with some options fixed, or `naiveAttention`. */
export type AttentionFn = (q: T.Tensor, k: T.Tensor, v: T.Tensor, o: FlashOptions) => T.Tensor;

/**
 * dQ, dK and dV of Σ f(q, k, v, opts)·w: the gradients the tests compare between the flash
 * kernels and the naive oracle. q, k and v are set to require grad.
 */
export async function weightedGradients(
  f: AttentionFn,
  [q, k, v]: [T.Tensor, T.Tensor, T.Tensor],
  opts: FlashOptions,
  w: T.Tensor,
): Promise<Float32Array[]> {
  for (const t of [q, k, v]) t.requiresGrad = true;
  T.sum(T.mul(f(q, k, v, opts), w)).backward();
  return (await Promise.all([q.grad!.data(), k.grad!.data(), v.grad!.data()])) as Float32Array[];
}
