import type { Device } from './device.js';
import { tensor } from './ops/creation.js';
import { noGrad } from './scope.js';
import type { Tensor } from './tensor.js';

/**
 * Central finite differences of `sum(f(inputs) * w)` for a fixed random weighting `w`,
 * compared against autograd. Returns the largest relative error over all input elements.
 */
export async function gradCheck(
  dev: Device,
  f: (...xs: Tensor[]) => Tensor,
  inputs: number[][],
  shapes: number[][],
  eps = 1e-2,
): Promise<number> {
  const leaves = inputs.map((d, i) =>
    tensor(d, { device: dev, shape: shapes[i]!, requiresGrad: true }),
  );
  const probe = f(...leaves);
  const w = tensor(
    Array.from({ length: probe.size }, (_, i) => Math.sin(i * 1.7) + 0.5),
    { device: dev, shape: [...probe.shape] },
  );
  const loss = probe.mul(w).sum();
  loss.backward();
  const analytic = await Promise.all(leaves.map((l) => l.grad!.data()));
  const objective = async (xs: number[][]) =>
    noGrad(() =>
      f(...xs.map((d, i) => tensor(d, { device: dev, shape: shapes[i]! })))
        .mul(w)
        .sum(),
    ).item();
  let worst = 0;
  for (let i = 0; i < inputs.length; i++) {
    for (let j = 0; j < inputs[i]!.length; j++) {
      const plus = inputs.map((d) => [...d]);
      const minus = inputs.map((d) => [...d]);
      plus[i]![j]! += eps;
      minus[i]![j]! -= eps;
      const numeric = ((await objective(plus)) - (await objective(minus))) / (2 * eps);
      const err = Math.abs(numeric - analytic[i]![j]!) / Math.max(1, Math.abs(numeric));
      worst = Math.max(worst, err);
    }
  }
  return worst;
}

/**
 * `n` deterministic, smooth test values in [lo, hi] (from sin), for finite-difference checks:
 * no randomness, no values exactly at a kink such as 0 for |x|.
 */
export function smoothValues(n: number, seed: number, lo = -2, hi = 2): number[] {
  return Array.from(
    { length: n },
    (_, i) => lo + ((Math.sin(seed * 97 + i * 13.37) + 1) / 2) * (hi - lo),
  );
}
