import {
  add,
  cast,
  div,
  keep,
  minimum,
  mul,
  noGrad,
  sqrt,
  sumOfSquares,
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
    // One pass per gradient (no squared copy), then the partial sums added in turn: the add
    // kernel the step compiled already, where stacking them would compile a concatenation
    // kernel per arity (three for the tiny preset's 20 tensors, a cold start's 0.3 s on lavapipe).
    // Accumulated in f32 whatever the gradients' dtype (an f16 sum of squares overflows early).
    const partials = grads.map((g) => sumOfSquares(g.dtype === 'f32' ? g : cast(g, 'f32')));
    let total = partials[0]!;
    for (const p of partials.slice(1)) {
      const next = add(total, p);
      total.dispose();
      p.dispose();
      total = next;
    }
    const norm = sqrt(total);
    total.dispose();
    const factor = minimum(div(maxNorm, add(norm, 1e-6)), 1);
    // Gradients may be strided views (of a transpose, an expand): replace rather than write in place.
    for (const p of params) {
      if (!p.grad) continue;
      const f = p.grad.dtype === factor.dtype ? factor : cast(factor, p.grad.dtype);
      const scaled = mul(p.grad, f);
      if (f !== factor) f.dispose();
      p.grad.dispose();
      p.grad = keep(scaled);
    }
    factor.dispose();
    return norm;
  });
}
