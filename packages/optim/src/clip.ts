import {
  add,
  div,
  keep,
  minimum,
  mul,
  noGrad,
  sqrt,
  square,
  sum,
  type Tensor,
} from '@tessera/tensor-webgpu';

/**
 * Scales all gradients together so that their global L2 norm is at most `maxNorm` (like
 * `torch.nn.utils.clip_grad_norm_`), without reading anything back from the GPU. Returns the
 * norm before clipping as a 0-d tensor (read it with `await norm.item()` when logging).
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): Tensor {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0)
    throw new Error('clipGradNorm: no parameter has a gradient (call backward() first)');
  return noGrad(() => {
    let total: Tensor | undefined;
    for (const g of grads) {
      const s = sum(square(g));
      const next = total ? add(total, s) : s;
      if (total) {
        total.dispose();
        s.dispose();
      }
      total = next;
    }
    const norm = sqrt(total!);
    total!.dispose();
    const factor = minimum(div(maxNorm, add(norm, 1e-6)), 1);
    // Gradients may be strided views (of a transpose, an expand): replace rather than write in place.
    for (const p of params) {
      if (!p.grad) continue;
      const scaled = mul(p.grad, factor);
      p.grad.dispose();
      p.grad = keep(scaled);
    }
    factor.dispose();
    return norm;
  });
}
