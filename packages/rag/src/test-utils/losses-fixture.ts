import { readFileSync } from 'node:fs';
import * as T from '@tessera/tensor-webgpu';

/** One PyTorch case of fixtures/make-losses-fixture.py: the output and every input's gradient. */
export interface LossCase {
  out: number[];
  shape: number[];
  grads: number[][];
}

/** The PyTorch reference values of fixtures/make-losses-fixture.py. */
export const losses = JSON.parse(
  readFileSync(new URL('../../fixtures/losses.json', import.meta.url), 'utf8'),
) as Record<string, LossCase & Record<string, unknown>>;

/** A leaf f32 tensor on `device` from nested fixture numbers, recording its gradient. */
export function leaf(device: T.Device, data: unknown): T.Tensor {
  return T.tensor(data as number[], { device }).requiresGrad_();
}

/** Backpropagates a non-scalar `out` weighted as the fixture did (linspace(−1, 1) over its elements). */
export function backwardAsFixture(out: T.Tensor): void {
  const n = out.size;
  const weights = Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
  T.sum(T.mul(out, T.tensor(weights, { device: out.device, shape: [...out.shape] }))).backward();
}
