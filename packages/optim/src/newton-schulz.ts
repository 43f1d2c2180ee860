import {
  add,
  addmm,
  div,
  matmul,
  noGrad,
  sqrt,
  square,
  sum,
  type Tensor,
  tidy,
  transpose,
} from '@tessera/tensor-webgpu';

/** Coefficients of the quintic iteration from the Muon reference (Jordan et al., 2024). */
export const NS_COEFFICIENTS = [3.4445, -4.775, 2.0315] as const;

/**
 * Approximately orthogonalises a matrix (U·Vᵀ of its SVD) with the quintic Newton–Schulz
 * iteration X ← aX + (bA + cA²)X, A = XXᵀ, after scaling X to unit Frobenius norm. The
 * coefficients trade exactness for speed: singular values land in roughly [0.7, 1.2], not at 1.
 * Works on the wide orientation (rows ≤ columns) so that A is the smaller Gram matrix. Each
 * iteration is three matmul kernels, the two polynomial adds fused into their stores (`addmm`),
 * on WebGPU or the CPU reference.
 */
export function newtonSchulz(g: Tensor, steps = 5, eps = 1e-7): Tensor {
  if (g.rank !== 2)
    throw new RangeError(`newtonSchulz: expected a matrix, got shape [${g.shape.join(', ')}]`);
  if (!Number.isInteger(steps) || steps < 1)
    throw new RangeError(`newtonSchulz: steps must be a positive integer, got ${steps}`);
  const [a, b, c] = NS_COEFFICIENTS;
  return noGrad(() =>
    tidy(() => {
      const tall = g.shape[0]! > g.shape[1]!;
      let x = div(g, add(sqrt(sum(square(g))), eps));
      if (tall) x = transpose(x);
      for (let i = 0; i < steps; i++) {
        // Each line is one matmul kernel with the add fused into its store (addmm).
        const gram = matmul(x, transpose(x));
        const poly = addmm(gram, gram, gram, { alpha: c, beta: b });
        x = addmm(x, poly, x, { alpha: 1, beta: a });
      }
      return tall ? transpose(x).contiguous() : x;
    }),
  );
}
